"""Code generation: the drawn network as one standalone, readable PyTorch file.

The file holds an `nn.Module` whose `__init__` creates one attribute per node, named after the
node, with the very keyword arguments the layer registry's `construct()` gives the builder (so
the file and Workbench can never disagree), and whose `forward` runs the graph top to bottom with
the inferred shape on every line (`# (B, 16, 4, 4)`). Layers Workbench defines itself are copied
from `workbench/layers/modules.py` with `inspect.getsource`; that file imports torch only, so the
generated file needs torch (and safetensors to load the weights) and nothing else.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import logging
import re
from pathlib import Path
from typing import Any

from torch import nn

from workbench import __version__
from workbench.errors import ExportError
from workbench.graph.analysis import check
from workbench.graph.document import Graph, Node
from workbench.layers.tensor_spec import TensorSpec
from workbench.layers import modules as layer_modules

log = logging.getLogger(__name__)

# Names the generated forward() uses itself; a node called like this gets a trailing underscore
# as a local variable.
_RESERVED = {"self", "torch", "nn", "F", "math", "Path", "Model", "load_model"}
_MAX_LINE = 110  # characters after the 8 spaces of indentation


def generate_code(
    graph: Graph,
    *,
    class_name: str = "Model",
    weights_file: str = "model.safetensors",
    title: str = "model",
    class_names: list[str] | None = None,
) -> str:
    """Python source of a standalone module for `graph` (see the module docstring)."""
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        raise ExportError(f"'{class_name}' is not a valid Python class name")
    analysis = check(graph)
    incoming: dict[str, dict[str, str]] = {n.id: {} for n in graph.nodes}
    for e in graph.edges:
        incoming[e.dst][e.dst_port] = e.src

    init_lines: list[str] = []
    forward_lines: list[str] = []
    custom: set[type[nn.Module]] = set()
    input_nodes: list[Node] = [n for n in graph.nodes if n.type == "Input"]  # the model's argument order
    result_var = "x"
    output_note = ""
    variables: dict[str, str] = {}
    for nid in analysis.order:
        node = graph.node(nid)
        out_spec = analysis.shapes[nid]
        if node.type == "Input":
            variables[nid] = _var(node.name)
            continue
        sources = [incoming[nid][p] for p in node.input_ports()]
        args = ", ".join(variables[s] for s in sources)
        if node.type == "Output":
            result_var = args
            output_note = f"  # Output '{node.name}', trained with {node.params['loss'].replace('_', '-')}"
            continue
        cls, kwargs = node.spec.construct(node.params, [analysis.shapes[s] for s in sources])
        init_lines.extend(_init_line(node, cls, kwargs, out_spec))
        if cls.__module__ == layer_modules.__name__:
            custom.add(cls)
        var = _var(node.name)
        variables[nid] = var
        forward_lines.append(f"{var} = {_attr(node.name)}({args})  # {_shape(out_spec)}")

    classes = _with_dependencies(custom)
    copied = "\n\n\n".join(inspect.getsource(c).rstrip() for c in classes)
    needs_math = bool(re.search(r"\bmath\.", copied))
    needs_f = bool(re.search(r"\bF\.", copied))

    in_specs = [analysis.shapes[n.id] for n in input_nodes]
    in_vars = [variables[n.id] for n in input_nodes]
    in_spec = in_specs[0]
    signature = ", ".join(f"{v}: torch.Tensor" for v in in_vars)
    input_notes = [f"# {v}: {_shape(spec)}" for v, spec in zip(in_vars, in_specs)]
    if len(input_nodes) == 1:
        dtype = "torch.long" if in_spec.dtype == "int64" else "torch.float32"
        constants = [f"INPUT_SHAPE = {tuple(in_spec.shape)!r}  # one sample, without the batch axis",
                     f"INPUT_DTYPE = {dtype}"]
        example = (
            "torch.zeros(2, *INPUT_SHAPE, dtype=torch.long)" if in_spec.dtype == "int64" else "torch.randn(2, *INPUT_SHAPE)"
        )
        call_doc = f"    out = model(x)        # x: {_shape(in_spec)}, out: {_shape(analysis.shapes[_output_id(graph)])}"
    else:
        # One shape per Input, in the order forward() takes them.
        shapes = {n.name: tuple(s.shape) for n, s in zip(input_nodes, in_specs)}
        dtypes = {n.name: ("torch.long" if s.dtype == "int64" else "torch.float32") for n, s in zip(input_nodes, in_specs)}
        constants = [f"INPUT_SHAPES = {shapes!r}  # one sample each, without the batch axis",
                     "INPUT_DTYPES = {" + ", ".join(f"{k!r}: {v}" for k, v in dtypes.items()) + "}"]
        example = ("*(torch.zeros(2, *INPUT_SHAPES[k], dtype=torch.long) if INPUT_DTYPES[k] == torch.long "
                   "else torch.randn(2, *INPUT_SHAPES[k]) for k in INPUT_SHAPES)")
        call_doc = (f"    out = model({', '.join(in_vars)})  # "
                    + ", ".join(f"{v}: {_shape(s)}" for v, s in zip(in_vars, in_specs))
                    + f"; out: {_shape(analysis.shapes[_output_id(graph)])}")
    out: list[str] = [
        f'"""{_doc_text(title)}: a network drawn in Workbench, as plain PyTorch.',
        "",
        f"Generated by Workbench {__version__}. It needs torch, and safetensors to load the trained weights;",
        "the layers Workbench defines itself are copied below, so Workbench need not be installed.",
        "",
        f"    model = load_model()  # reads {weights_file} next to this file",
        call_doc,
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    if needs_math:
        out.append("import math")
    out += ["from pathlib import Path", "", "import torch"]
    if needs_f:
        out.append("import torch.nn.functional as F")
    out += ["from torch import nn", "", *constants]
    if class_names:
        out.append(f"CLASS_NAMES = {list(class_names)!r}")
    out += ["", ""]
    if copied:
        out += ["# ----- layers copied from workbench/layers/modules.py -----", "", "", copied, "", ""]
    out += [
        f"class {class_name}(nn.Module):",
        f'    """{_doc_text(title)}: {len(forward_lines)} layers, from the Input to the Output."""',
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *("        " + line for line in init_lines),
        "",
        f"    def forward(self, {signature}) -> torch.Tensor:",
        *("        " + note for note in input_notes),
        *("        " + line for line in forward_lines),
        f"        return {result_var}{output_note}",
        "",
        "",
        f"def load_model(weights: str | Path | None = None) -> {class_name}:",
        f'    """The model with its trained weights (default: {weights_file} beside this file), in eval mode."""',
        "    from safetensors.torch import load_file",
        "",
        f'    path = Path(weights) if weights is not None else Path(__file__).with_name("{weights_file}")',
        f"    model = {class_name}()",
        "    model.load_state_dict(load_file(str(path)))",
        "    return model.eval()",
        "",
        "",
        'if __name__ == "__main__":',
        "    model = load_model()",
        f"    x = ({example},)" if len(input_nodes) > 1 else f"    x = {example}",
        "    with torch.no_grad():",
        '        print("output shape:", tuple(model(*x).shape))' if len(input_nodes) > 1
        else '        print("output shape:", tuple(model(x).shape))',
        "",
    ]
    source = "\n".join(out)
    try:
        ast.parse(source)
    except SyntaxError as exc:  # a bug here, not the user's: say so plainly
        raise ExportError(f"generated code does not parse (line {exc.lineno}: {exc.msg}) — please report this") from exc
    return source


def write_code(graph: Graph, path: str | Path, **kwargs: Any) -> Path:
    """Write `generate_code(graph, ...)` to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generate_code(graph, **kwargs), encoding="utf-8")
    log.info("wrote %s", path)
    return path


# ----- pieces ---------------------------------------------------------------------------------------


def _init_line(node: Node, cls: type[nn.Module], kwargs: dict[str, Any], out_spec: TensorSpec) -> list[str]:
    ctor = _class_ref(node, cls)
    parts = [f"{k}={_literal(node, k, v)}" for k, v in kwargs.items()]
    comment = f"  # {node.type} -> {_shape(out_spec)}"
    target = f"self.{node.name} = " if _plain_attr(node.name) else f'self.add_module("{node.name}", '
    close = "" if _plain_attr(node.name) else ")"
    code = f"{target}{ctor}({', '.join(parts)}){close}"
    if len(code) + len(comment) <= _MAX_LINE or not parts:
        return [code + comment]
    if len(code) <= _MAX_LINE:
        return [comment.strip(), code]
    # Long constructor calls get one argument per line, like a formatter would write them.
    return [comment.strip(), f"{target}{ctor}(", *(f"    {p}," for p in parts), f"){close}"]


def _class_ref(node: Node, cls: type[nn.Module]) -> str:
    if cls.__module__ == layer_modules.__name__:
        return cls.__name__
    if getattr(nn, cls.__name__, None) is cls:
        return f"nn.{cls.__name__}"
    raise ExportError(
        f"the code format cannot hold {node.label()}: its module {cls.__module__}.{cls.__qualname__} is neither "
        "in torch.nn nor in workbench/layers/modules.py — export it to ONNX or safetensors instead"
    )


def _literal(node: Node, key: str, value: Any) -> str:
    literal = tuple(value) if isinstance(value, list) else value
    text = repr(literal)
    try:
        same = ast.literal_eval(text) == literal
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        same = False
    if not same:
        raise ExportError(f"the code format cannot hold {node.label()}: its setting {key}={value!r} has no Python literal")
    return text


def _with_dependencies(classes: set[type[nn.Module]]) -> list[type[nn.Module]]:
    """The classes and the modules.py classes their source mentions, in modules.py order."""
    available = {
        name: obj for name, obj in vars(layer_modules).items()
        if inspect.isclass(obj) and obj.__module__ == layer_modules.__name__
    }
    needed: dict[str, type[nn.Module]] = {}
    stack = list(classes)
    while stack:
        cls = stack.pop()
        if cls.__name__ in needed:
            continue
        needed[cls.__name__] = cls
        words = set(re.findall(r"\b[A-Za-z_]\w*\b", inspect.getsource(cls)))
        stack.extend(available[w] for w in words if w in available and w != cls.__name__)
    return sorted(needed.values(), key=lambda c: inspect.getsourcelines(c)[1])


def _shape(spec: TensorSpec) -> str:
    text = "(" + ", ".join(["B", *(str(d) for d in spec.shape)]) + ")"
    return text if spec.dtype == "float32" else f"{text} {spec.dtype}"


def _var(name: str) -> str:
    return f"{name}_" if keyword.iskeyword(name) or name in _RESERVED else name


def _plain_attr(name: str) -> bool:
    return not keyword.iskeyword(name)


def _attr(name: str) -> str:
    return f"self.{name}" if _plain_attr(name) else f'self.get_submodule("{name}")'


def _output_id(graph: Graph) -> str:
    return next(n.id for n in graph.nodes if n.type == "Output")


def _doc_text(title: str) -> str:
    # The title lands in a docstring: keep it on one line and free of quote runs.
    return " ".join(title.replace('"""', "'").replace("\\", "/").split()) or "model"
