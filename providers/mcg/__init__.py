"""MCG service-provider API: tokens, introspection, /Services and the staff inbox."""
