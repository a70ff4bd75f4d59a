"""What ``spec2 steps`` prints, and the user guide's step tables, from the step
definitions themselves (so the two cannot drift apart)."""

from __future__ import annotations

import functools


@functools.cache
def _status_keywords() -> dict:
    from stdatamodels.jwst.datamodels import ImageModel

    from spec2.models import schema_of

    def find(node):
        if isinstance(node, dict):
            if "cal_step" in node.get("properties", {}):
                return node["properties"]["cal_step"]["properties"]
            nodes = node.values()
        elif isinstance(node, list):
            nodes = node
        else:
            return None
        for child in nodes:
            found = find(child)
            if found:
                return found
        return None

    return {k: v.get("fits_keyword") for k, v in (find(schema_of(ImageModel)) or {}).items()}


def status_keyword(cal_step) -> str:
    """The FITS keyword of a ``meta.cal_step`` attribute (S_FLAT for flat_field)."""
    return _status_keywords().get(cal_step) or f"cal_step.{cal_step}"


def _default(param) -> str:
    if param.default is None:
        return "None"
    if isinstance(param.default, list):
        return ",".join(str(v) for v in param.default)
    return str(param.default)


def describe_step(pm, stepdef, detailed=False) -> str:
    """A step for the terminal: one line, or with ``detailed`` its references, the
    modes that run it (and the plugin owning it for each) and every parameter."""
    flags = " (off by default)" if stepdef.off_by_default else ""
    head = f"{stepdef.name:<15} {stepdef.summary}{flags}"
    if not detailed:
        return head
    from spec2.plugins import claims_of, parameter_origins

    keyword = f"{status_keyword(stepdef.cal_step)} (meta.cal_step.{stepdef.cal_step})"
    lines = [head, f"  hook: {stepdef.hook}; status keyword: {keyword}"]
    if stepdef.makes:
        lines.append(f"  makes: the _{stepdef.makes} product kind")
    lines.append(f"  reference types: {', '.join(stepdef.reftypes) or '-'}")
    claims = claims_of(pm)
    modes = sorted((t, o) for (t, s), o in claims.owners.items() if s == stepdef.name)
    if modes:
        lines.append("  modes:")
        for exp_type, owner in modes:
            refs = ", ".join(claims.reftypes.get((exp_type, stepdef.name), ())) or "no references"
            lines.append(f"    {exp_type:<20} plugin {owner}: {refs}")
    origins = parameter_origins(pm)
    lines.append("  parameters:")
    for p in stepdef.params:
        origin = origins.get((stepdef.name, p.name), "the core")
        added = f" [{origin}]" if origin != "the core" else ""
        lines.append(f"    {p.name:<26} {p.describe_type():<22} = {_default(p):<8} {p.help}{added}")
    return "\n".join(lines)


def markdown_table(stepdefs) -> str:
    """The user guide's tables: the steps, then every parameter."""
    out = ["| step | what it does | hook | status keyword | reference types |",
           "|---|---|---|---|---|"]
    for s in stepdefs.values():
        flags = " (off by default)" if s.off_by_default else ""
        out.append(f"| `{s.name}` | {s.summary}{flags} | `{s.hook}` | `{status_keyword(s.cal_step)}` | {', '.join(s.reftypes) or '-'} |")
    out += ["", "| parameter | type | default | meaning |", "|---|---|---|---|"]
    for s in stepdefs.values():
        for p in s.params:
            out.append(f"| `{s.name}.{p.name}` | {p.describe_type()} | `{_default(p)}` | {p.help} |")
    return "\n".join(out) + "\n"
