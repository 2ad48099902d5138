"""Checks shared by the inbound JSON APIs on bodies that json.loads accepted."""


def is_storable_text(value: str) -> bool:
    """False for text a database or UTF-8 cannot hold: NUL characters or lone surrogates (e.g. "\\ud800")."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def has_unstorable_text(data) -> bool:
    """True when any string (or object key) anywhere in decoded JSON is not storable text."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_storable_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
