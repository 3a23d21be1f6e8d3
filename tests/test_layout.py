"""The package layout: one direction of imports between the project's packages (no
package imports another that imports it back, directly or through others), read from
the source with `ast`, so that a new import that closes a cycle fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "extract", "classify", "stories", "archive", "pipeline", "alerts",
            "crawler", "scheduler", "web", "backchannel")


def imported_packages(path: Path) -> set[str]:
    """The project packages a module imports, anywhere in it (function bodies too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names
                     if name.split(".")[0] in PACKAGES)
    return found


def package_graph() -> dict[str, dict[str, list[str]]]:
    """package → imported package → the modules that import it."""
    graph: dict[str, dict[str, list[str]]] = {name: {} for name in PACKAGES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for other in imported_packages(path) - {package}:
                graph[package].setdefault(other, []).append(str(path.relative_to(ROOT)))
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Every strongly connected group of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_every_package_exists() -> None:
    assert [p for p in PACKAGES if not (ROOT / p / "__init__.py").is_file()] == []


def test_no_import_cycle_between_packages() -> None:
    graph = package_graph()
    found = cycles(graph)
    detail = [
        f"{a} → {b} ({', '.join(graph[a][b][:3])})"
        for group in found for a in group for b in graph[a] if b in group
    ]
    assert found == [], "imports close a cycle between packages:\n" + "\n".join(detail)


def test_the_cycle_reader_sees_a_cycle(tmp_path: Path) -> None:
    graph = {"a": {"b": ["a/x.py"]}, "b": {"c": ["b/y.py"]}, "c": {"a": ["c/z.py"]},
             "d": {"a": ["d/w.py"]}}
    assert cycles(graph) == [["a", "b", "c"]]
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from archive.db import connect\nimport crawler.items\n")
    assert imported_packages(module) == {"archive", "crawler"}


# --- No SQL outside archive/ ----------------------------------------------------------
# Every SQL statement, every `.execute(` and every `psycopg.connect(` belongs to
# archive/: the other packages call its functions. Read from the source with `ast`.

# TEMPORARY: modules that still hold SQL while their owners move it to archive/ (the
# crawler's pass runner and Scrapy pipeline; reclassify, left to its owner). Empty it as
# each lands; the test fails on a module listed here that has no SQL left.
NOT_ARCHIVE = tuple(p for p in PACKAGES if p != "archive")

_FLAGS = re.IGNORECASE | re.DOTALL
_NAME = r"[\w.\"{}]+"  # a table or column, maybe qualified or quoted; {} an f-string part
_OBJECT = (r"\s+(or\s+replace\s+|if\s+(not\s+)?exists\s+|unique\s+|temp(orary)?\s+)*"
           r"(table|index|view|function|trigger|schema|extension|type|sequence|database"
           r"|materialized|system|role|policy|domain|aggregate|publication|subscription)\b")
_SHAPES = {  # what follows each verb at the start of a statement
    "select": re.compile(rf"(?P<cols>.*?)\bfrom\s+{_NAME}|\s*{_NAME}\s*\(|\s*\("
                         rf"|\s*(\d+|\*)\s*$|\s*{_NAME}\s*,\s*{_NAME}", _FLAGS),
    "insert": re.compile(rf"\s+into\s+{_NAME}", _FLAGS),
    "update": re.compile(rf"\s+{_NAME}(\s+(as\s+)?\w+)?\s+set\s+{_NAME}\s*=", _FLAGS),
    "delete": re.compile(rf"\s+from\s+{_NAME}", _FLAGS),
    "with": re.compile(r"\s+(recursive\s+)?\w+\s*(\([^)]*\)\s*)?as\s+(not\s+)?"
                       r"(materialized\s+)?\(", _FLAGS),
    "create": re.compile(_OBJECT, _FLAGS),
    "alter": re.compile(_OBJECT, _FLAGS),
    "drop": re.compile(_OBJECT, _FLAGS),
    "listen": re.compile(rf"\s+{_NAME}\s*;?\s*$", _FLAGS),
    "notify": re.compile(rf"\s+{_NAME}\s*(,.*)?$", _FLAGS),
    "set": re.compile(rf"\s+((local|session)\b|{_NAME}\s*(=|to\b))", _FLAGS),
}
# A verb in lower case is also English ("select the articles from the list"): such a
# string counts only with a parameter, a cast or a VALUES list, or a column list.
_MARKERS = re.compile(r"%s|%\(\w+\)s|\$\d+|::\w|\bvalues\s*\(", re.IGNORECASE)
_COLUMN_LIST = re.compile(r"\s*(\*|[\w.]+(\s*,\s*[\w.]+)+)\s*$")
_CONNECTS = {"psycopg.connect", "psycopg.Connection.connect",
             "psycopg.AsyncConnection.connect"}


def looks_like_sql(text: str) -> bool:
    """A verb that starts a statement (after whitespace), then what SQL puts after it:
    FROM a table, INTO a table, a table SET a column =, TABLE or INDEX..."""
    match = re.match(r"\s*([A-Za-z]+)\b(.*)", text, re.DOTALL)
    if not match or match.group(1).lower() not in _SHAPES:
        return False
    verb, rest = match.groups()
    shape = _SHAPES[verb.lower()].match(rest)
    if shape is None:
        return False
    if verb.isupper() or _MARKERS.search(rest):
        return True
    columns = shape.groupdict().get("cols")
    return columns is not None and _COLUMN_LIST.match(columns) is not None


def _dotted(node: ast.expr) -> str:
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return ".".join(reversed(names))


def sql_uses(path: Path) -> list[str]:
    """"line: what" for each SQL-looking string (f-strings with {} for their values),
    `.execute(`/`.executemany(` call and psycopg connect in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    in_fstring = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                  for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(part.value if isinstance(part, ast.Constant) else "{}"
                           for part in node.values)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in in_fstring):
            text = node.value
        else:
            text = None
        if text is not None and looks_like_sql(text):
            found.append(f"{node.lineno}: SQL {' '.join(text.split())[:50]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("execute", "executemany"):
                found.append(f"{node.lineno}: .{node.func.attr}(")
            elif _dotted(node.func) in _CONNECTS:
                found.append(f"{node.lineno}: {_dotted(node.func)}(")
        elif (isinstance(node, ast.ImportFrom) and node.module == "psycopg"
              and any(alias.name == "connect" for alias in node.names)):
            found.append(f"{node.lineno}: from psycopg import connect")
    return sorted(found, key=lambda item: int(item.split(":")[0]))


def modules_with_sql(root: Path = ROOT) -> dict[str, list[str]]:
    """Module (path from the root) → its SQL uses, for every package but archive."""
    found = {}
    for package in NOT_ARCHIVE:
        for path in sorted((root / package).rglob("*.py")):
            uses = sql_uses(path)
            if uses:
                found[str(path.relative_to(root))] = uses
    return found


def test_no_sql_outside_archive() -> None:
    found = modules_with_sql()
    detail = "\n".join(f"{module}:\n    " + "\n    ".join(uses)
                       for module, uses in found.items())
    assert found == {}, ("SQL outside archive/ (move it into a function of an "
                         "archive/ module):\n" + detail)


def test_the_sql_detector_tells_sql_from_prose(tmp_path: Path) -> None:
    caught = tmp_path / "caught.py"
    caught.write_text(
        'import psycopg\n'
        'QUERY = """\n    SELECT id, url FROM articles WHERE id = %s"""\n'
        'def f(conn, table):\n'
        '    conn.cursor().execute(QUERY, (1,))\n'
        '    psycopg.connect("postgresql://")\n'
        '    return f"UPDATE {table} SET x = 1", "insert into alerts (a) values (%s)"\n')
    assert sql_uses(caught) == [
        "2: SQL 'SELECT id, url FROM articles WHERE id = %s'",
        "5: .execute(",
        "6: psycopg.connect(",
        "7: SQL 'UPDATE {} SET x = 1'",
        "7: SQL 'insert into alerts (a) values (%s)'",
    ]
    prose = tmp_path / "prose.py"
    prose.write_text(
        'def pick(items):\n'
        '    """select the articles from the list"""\n'
        '    note = "Update the story set; insert into the outbox; create the table"\n'
        '    return "Delete from the queue what = 1", note, "with the story as (a copy)"\n')
    assert sql_uses(prose) == []
    assert all(looks_like_sql(text) for text in (
        "SELECT 1", "SELECT pg_notify(%s, %s)", "LISTEN backchannel_alerts",
        "SET statement_timeout = 5", "UPDATE articles AS a SET x = 1",
        "WITH recent AS (SELECT 1) SELECT * FROM recent", "CREATE TABLE IF NOT EXISTS t",
        "select * from sources", "delete from stories where id = %s"))


def lock_key_definitions(root: Path = ROOT) -> dict[str, list[str]]:
    """NAME_LOCK = <int> assignments at a module's top level → where, over the project."""
    found: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in tree.body:
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, int)):
                    for target in node.targets:
                        if isinstance(target, ast.Name) and target.id.endswith("_LOCK"):
                            found.setdefault(target.id, []).append(
                                f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_advisory_lock_key_is_defined_once_in_archive_locks() -> None:
    import archive.locks

    found = lock_key_definitions()
    elsewhere = {name: where for name, where in found.items()
                 if len(where) != 1 or not where[0].startswith("archive/locks.py:")}
    assert elsewhere == {}, f"lock keys defined outside archive/locks.py: {elsewhere}"
    keys = {name: getattr(archive.locks, name) for name in found}
    assert {"MIGRATION_LOCK", "CRAWLER_LOCK", "SCHEMA_LOCK", "STORY_LOCK"} <= set(keys)
    assert len(set(keys.values())) == len(keys), f"two locks share a key: {keys}"
