"""Build sample_images/manifest.csv from the dataset's published checksums and metadata.

Run by a maintainer, never by students:

    python tools/build_manifest.py /path/to/face-research-lab

The folder must be an unmodified copy of the pinned upstream commit (for example the
course's offline mirror). The script records, for every file the course may use, where
it comes from, its SHA-256, its licence, its attribution and the consent basis, plus
the participants' self-reported age, gender and ethnicity where the authors published
them. The manifest is the only list of images the course will ever load.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from facecourse.manifest import MANIFEST_COLUMNS, UPSTREAM_COMMIT

LONDON_ATTRIBUTION = (
    "DeBruine, L., & Jones, B. (2017). Face Research Lab London Set (Version 5). "
    "figshare. https://doi.org/10.6084/m9.figshare.5047666.v5"
)
COMPOSITE_ATTRIBUTION = (
    "DeBruine, L. (2016). Young adult composite faces. figshare. "
    "https://doi.org/10.6084/m9.figshare.4055130.v1"
)
LISA_ATTRIBUTION = "Images of Lisa DeBruine, released under CC0 in webmorphR.stim (DeBruine, 2022)"
LONDON_CONSENT = (
    "signed consent: images may be used in lab-based and web-based studies in their original "
    "or altered forms and to illustrate research (e.g., in scientific journals, news media or "
    "presentations) (London, UK, April 2012)"
)
CC_BY = "CC-BY-4.0"
CC0 = "CC0-1.0"

#: What a file is, by its extension; any other file is skipped (and reported), never guessed.
KIND_BY_EXTENSION = {"jpg": "photo", "jpeg": "photo", "png": "photo", "tem": "landmarks"}

# folder -> (set name, licence, attribution, consent basis, session)
FOLDERS = {
    "neutral_front": ("london_neutral", CC_BY, LONDON_ATTRIBUTION, LONDON_CONSENT, "london-2012"),
    "smiling_front": ("london_smiling", CC_BY, LONDON_ATTRIBUTION, LONDON_CONSENT, "london-2012"),
    "composite": (
        "composite",
        CC_BY,
        COMPOSITE_ATTRIBUTION,
        "derived from consenting London Set participants (average of 4 or more faces)",
        "composite",
    ),
    "lisa": ("lisa", CC0, LISA_ATTRIBUTION, "the author's own images of herself, released CC0", "lisa-a"),
    "zoom": ("zoom", CC0, LISA_ATTRIBUTION, "the author's own images of herself, released CC0", "lisa-b"),
}


def person_id(folder: str, stem: str) -> str:
    if folder in ("neutral_front", "smiling_front"):
        return f"london-{stem.split('_')[0]}"
    if folder == "composite":
        return f"composite-{stem}"
    return "lisa-debruine"


def image_id(folder: str, stem: str) -> str:
    if folder == "neutral_front":
        return f"london-{stem.split('_')[0]}-neutral"
    if folder == "smiling_front":
        return f"london-{stem.split('_')[0]}-smiling"
    if folder == "composite":
        return f"composite-{stem}"
    return f"{folder}-{stem}"


def main(mirror: Path, out: Path) -> list[str]:
    """Write the manifest for ``mirror`` to ``out``; return the files skipped (and print them).

    Only the files directly inside the known set folders (``FOLDERS``) with a known extension
    (``KIND_BY_EXTENSION``), plus ``london_info.csv``, become rows. Anything else - a nested
    path, a file at the top level, an unknown extension - is skipped and listed, so that a
    changed upstream is noticed rather than mislabelled.
    """
    sums = {}
    for line in (mirror / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    info = {}
    with open(mirror / "london_info.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            info[row["face_id"]] = row
    rows = []
    skipped = []
    for rel, digest in sorted(sums.items()):
        if rel == "london_info.csv":
            rows.append(
                {
                    "file_id": "london-info",
                    "person_id": "",
                    "set": "metadata",
                    "kind": "metadata",
                    "path": rel,
                    "upstream_path": "data-raw/london_info.csv",
                    "sha256": digest,
                    "licence": CC_BY,
                    "attribution": LONDON_ATTRIBUTION,
                    "consent_basis": "self-reported by the participants",
                    "age": "",
                    "gender": "",
                    "ethnicity": "",
                    "session": "",
                }
            )
            continue
        parts = rel.split("/")
        if len(parts) != 2 or parts[0] not in FOLDERS:
            skipped.append(rel)  # nested, top-level or not a set the course may use
            continue
        folder, fname = parts
        stem, _, ext = fname.rpartition(".")
        kind = KIND_BY_EXTENSION.get(ext.lower())
        if not stem or kind is None:
            skipped.append(rel)  # not a photo or a landmark template
            continue
        set_name, licence, attribution, consent, session = FOLDERS[folder]
        pid = person_id(folder, stem)
        meta = info.get(pid.removeprefix("london-"), {}) if pid.startswith("london-") else {}
        rows.append(
            {
                "file_id": image_id(folder, stem) + ("-landmarks" if kind == "landmarks" else ""),
                "person_id": pid,
                "set": set_name,
                "kind": kind,
                "path": rel,
                "upstream_path": f"inst/{rel}",
                "sha256": digest,
                "licence": licence,
                "attribution": attribution,
                "consent_basis": consent,
                "age": "" if meta.get("face_age", "NA") == "NA" else meta["face_age"],
                "gender": meta.get("face_gender", ""),
                "ethnicity": meta.get("face_eth", ""),
                "session": session,
            }
        )
    with open(out, "w", newline="") as fh:
        fh.write(f"# upstream: github.com/debruine/webmorphR.stim at commit {UPSTREAM_COMMIT}\n")
        writer = csv.DictWriter(fh, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")
    if skipped:
        print(f"skipped {len(skipped)} file(s) that are not photos or templates of a known set:")
        for rel in skipped:
            print(f"  {rel}")
    return skipped


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(__file__).resolve().parents[1] / "sample_images" / "manifest.csv")
