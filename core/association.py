"""Inputs: bare rate/rateints files and level-2 association files (the jwst ASN JSON).

A level-2 association has ``products``, each with ``name`` and ``members``; each member
has ``expname`` and ``exptype`` (science, background, imprint, sourcecat, segmap,
direct_image, ...). Member paths are resolved relative to the association file (jwst
resolves some relative to the working directory; we do not). One product is one
exposure to calibrate. A product whose members are missing fails alone.

A directory given as an input stands for the associations (``*_asn.json``) and the
rate/rateints files in it (not in its subfolders), in name order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from spec2.errors import AssociationError, InputError

# rate/rateints (or any stage suffix) stripped to get the product root name
_SUFFIX = re.compile(r"_(rate|rateints|cal|calints|bsub|bsubints)$")


@dataclass
class Exposure:
    """One exposure to calibrate: its science file, product name and associated members."""

    name: str  # product root: products are <name>_cal.fits, ...
    science: Path
    members: dict[str, list[Path]] = field(default_factory=dict)
    source: Path | None = None  # the association file, if any
    # the references selected before a run on workers (spec2.refs.Selection), if any
    references: object = None


@dataclass
class FailedInput:
    """An input that could not even be turned into an exposure (reported, not raised)."""

    name: str
    error: Exception


def product_root(path: Path) -> str:
    """``jw..._rate.fits`` -> ``jw...`` (jwst's naming of stage-2 products)."""
    stem = Path(path).name
    for ext in (".fits", ".fits.gz"):
        stem = stem.removesuffix(ext)
    return _SUFFIX.sub("", stem)


#: The files a directory input stands for.
DIRECTORY_PATTERNS = ("*_asn.json", "*_rate.fits", "*_rateints.fits")


def directory_inputs(folder: Path) -> list[Path]:
    """The associations and rate/rateints files in ``folder``, sorted by name."""
    found = {p for pattern in DIRECTORY_PATTERNS for p in Path(folder).glob(pattern) if p.is_file()}
    return sorted(found, key=lambda p: p.name)


def expand_inputs(inputs) -> list[Exposure | FailedInput]:
    """Turn command-line inputs into exposures, in order; problems become FailedInput.
    A directory is replaced by :func:`directory_inputs` (an empty one is a FailedInput)."""
    jobs: list[Exposure | FailedInput] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = directory_inputs(path)
            if not found:
                jobs.append(FailedInput(path.name or str(path), InputError(
                    f"{path}: a folder with no association (*_asn.json) or rate file (*_rate.fits, *_rateints.fits)")))
            jobs.extend(expand_inputs(found))
            continue
        if path.suffix.lower() == ".json":
            try:
                jobs.extend(read_association(path))
            except Spec2InputProblem as exc:
                jobs.append(FailedInput(path.name, exc.error))
        else:
            jobs.append(Exposure(product_root(path), path))
    return jobs


class Spec2InputProblem(Exception):
    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def read_association(path: Path) -> list[Exposure | FailedInput]:
    """Read a level-2 association; each product becomes an Exposure or a FailedInput."""
    if not path.is_file():
        raise Spec2InputProblem(InputError(f"{path}: no such association file"))
    try:
        asn = json.loads(path.read_text())
        products = asn["products"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Spec2InputProblem(
            AssociationError(f"{path}: not a level-2 association (JSON with 'products'): {exc}")
        ) from None
    base = path.resolve().parent
    jobs: list[Exposure | FailedInput] = []
    for index, product in enumerate(products):
        name = str(product.get("name") or f"{path.stem}_{index}")
        try:
            jobs.append(_product_exposure(product, name, base, path))
        except AssociationError as exc:
            jobs.append(FailedInput(name, exc))
    return jobs


def _product_exposure(product, name, base, asn_path) -> Exposure:
    members: dict[str, list[Path]] = {}
    for member in product.get("members", []):
        try:
            expname, exptype = member["expname"], str(member["exptype"]).lower()
        except (KeyError, TypeError):
            raise AssociationError(
                f"{asn_path.name}: product {name}: a member lacks expname/exptype"
            ) from None
        member_path = Path(expname)
        if not member_path.is_absolute():
            member_path = base / member_path
        if not member_path.exists():
            raise AssociationError(
                f"{asn_path.name}: product {name}: member {expname} ({exptype}) does not exist"
            )
        members.setdefault(exptype, []).append(member_path)
    science = members.pop("science", [])
    if len(science) != 1:
        raise AssociationError(
            f"{asn_path.name}: product {name}: needs exactly one science member, has {len(science)}"
        )
    return Exposure(product_root(Path(name)), science[0], members, asn_path)


def write_nod_association(path, rate_files, product_names, extra_members=None):
    """Write a level-2 association in which each exposure is calibrated with the others
    as its background members (a nod set), as jwst's ASN files spell it.
    ``extra_members`` ({exptype: [paths]}, e.g. {"imprint": [...]}) join every product."""
    products = []
    for name, science in zip(product_names, rate_files):
        members = [{"expname": Path(science).name, "exptype": "science"}]
        members += [{"expname": Path(other).name, "exptype": "background"} for other in rate_files if other != science]
        members += [{"expname": Path(p).name, "exptype": kind}
                    for kind, files in (extra_members or {}).items() for p in files]
        products.append({"name": name, "members": members})
    doc = {
        "asn_type": "spec2", "asn_rule": "Asn_Lv2SpecSpecial", "asn_id": "a3001",
        "asn_pool": "spec2_sim_pool", "program": "01234", "code_version": "spec2",
        "degraded_status": "No known degraded exposures in association.",
        "version_id": None, "constraints": "simulated nod set", "products": products,
    }
    Path(path).write_text(json.dumps(doc, indent=2))
    return path
