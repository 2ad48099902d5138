"""The portal's domain: pharmacies, staff, memberships, provider accounts, jobs and the audit trail."""
