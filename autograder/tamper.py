"""Read a submission's own code, outside its kernel, for attempts to change how it is graded.

Tests run in the same Python process as the student's code, so code that replaces what the
tests rely on (numpy functions, the check helpers, builtins, IPython itself) can fool them,
and no in-process defence is complete. This scan is the part the student cannot touch: it
reads the code cells the student wrote and reports

- "tamper": code that changes the grading machinery (the submission is held for review), and
- "unsafe": code that ends the kernel, runs programs or opens connections (noted only; the
  sandbox already stops what it can).

Code built from strings at run time can still hide; `exec`, `eval` and friends are reported
for that reason.
"""
import ast
import re

CHECK_HELPERS = {"check_equal", "check_array", "check_close", "check_raises", "all_passed",
                 "call_student", "CheckFailed"}
TAMPER_MODULES = {"builtins", "autograder", "ctypes", "gc", "importlib", "inspect"}
UNSAFE_MODULES = {"socket", "urllib", "http", "requests", "subprocess", "signal",
                  "multiprocessing", "shutil"}
TAMPER_CALLS = {"exec", "eval", "compile", "__import__", "globals", "vars", "setattr",
                "delattr", "get_ipython"}
TAMPER_ATTRS = {("sys", "modules"), ("sys", "settrace"), ("sys", "setprofile"),
                ("sys", "addaudithook"), ("sys", "meta_path"), ("sys", "path_hooks")}
UNSAFE_ATTRS = {("os", "_exit"), ("os", "kill"), ("os", "system"), ("os", "popen"),
                ("os", "fork"), ("os", "remove"), ("os", "unlink"), ("os", "rmdir")}
ALLOWED_MODULE_WRITES = {("torch", "backends"), ("plt", "rcParams"), ("matplotlib", "rcParams")}
SECRET_WORDS = re.compile(r"autograder|gradebook|references/|/source/|\.\./")


def _clean(source):
    """Cell source as Python: IPython magics and shell escapes become `pass`."""
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _chain(node):
    """('np', 'allclose') for np.allclose; () if the chain does not start at a name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ()
    return (node.id, *reversed(parts))


def _module_aliases(trees):
    aliases = {"sys", "os", "np", "numpy", "torch", "builtins", "course", "autograder"}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases |= {a.asname or a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                aliases |= {a.asname or a.name for a in node.names
                            if node.module.split(".")[0] in {"course", "autograder", "numpy"}}
    return aliases


def scan_sources(sources):
    """Findings in a list of (label, source): [(kind, label, line, what)]."""
    trees = []
    findings = []
    for label, source in sources:
        if SECRET_WORDS.search(source):
            findings.append(("tamper", label, 0, "mentions the grader's files "
                             "(autograder, gradebook, references or source)"))
        try:
            trees.append((label, ast.parse(_clean(source))))
        except SyntaxError:
            continue
        if any(line.lstrip().startswith("!") for line in source.splitlines()):
            findings.append(("unsafe", label, 0, "runs a shell command (!)"))
    aliases = _module_aliases([t for _, t in trees])
    for label, tree in trees:
        for node in ast.walk(tree):
            findings += [(kind, label, getattr(node, "lineno", 0), what)
                         for kind, what in _judge(node, aliases)]
    return findings


def _judge(node, aliases):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for name in names:
            top = name.split(".")[0]
            if top in TAMPER_MODULES:
                yield "tamper", f"imports {name}"
            elif top in UNSAFE_MODULES:
                yield "unsafe", f"imports {name}"
    elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in CHECK_HELPERS:
        yield "tamper", f"defines its own {node.name}, a name the tests use"
    elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id in CHECK_HELPERS:
                    yield "tamper", f"assigns to {sub.id}, a name the tests use"
                if isinstance(sub, ast.Name) and sub.id == "__builtins__":
                    yield "tamper", "changes __builtins__"
            chain = _chain(target.value) if isinstance(target, ast.Subscript) else _chain(target)
            if len(chain) >= 2 and chain[0] in aliases and tuple(chain[:2]) not in \
                    ALLOWED_MODULE_WRITES:
                yield "tamper", f"replaces {'.'.join(chain)} in a module the tests use"
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in TAMPER_CALLS:
            yield "tamper", f"calls {func.id}()"
        chain = _chain(func)
        if tuple(chain[-2:]) in UNSAFE_ATTRS:
            yield "unsafe", f"calls {'.'.join(chain)}()"
    elif isinstance(node, ast.Attribute):
        chain = _chain(node)
        if tuple(chain[:2]) in TAMPER_ATTRS:
            yield "tamper", f"uses {'.'.join(chain[:2])}"
    elif isinstance(node, ast.Name) and node.id == "__builtins__":
        yield "tamper", "uses __builtins__"


def student_sources(nb, template):
    """(label, source) of the code cells the student wrote or changed."""
    given = {c.source.strip() for c in template.cells if c.cell_type == "code"}
    # read-only cells are restored from the gradebook by nbgrader, so what the student put
    # there never runs; which cells those are comes from the template, not from the student
    restored = {c.metadata["nbgrader"]["grade_id"] for c in template.cells
                if c.metadata.get("nbgrader", {}).get("locked")}
    out = []
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("grade_id") in restored or \
                cell.source.strip() in given:
            continue
        out.append((meta.get("grade_id") or f"cell {index + 1}", cell.source))
    return out
