"""Command line: ``python -m facecourse COMMAND``.

    fetch                 download (or copy from FACECOURSE_IMAGE_MIRROR) and verify every image
    verify                check every downloaded image against the manifest, report problems
    withdraw PERSON_ID    record that a person withdrew consent and delete all that was derived from them
    forget-my-images      delete everything the course derived from the photos in my_images/
    build-class-cache DIR [--workers N] [--seed CACHE_DIR]...
                          compute every faceprint the lessons and exercises need into DIR, with a hash
                          index, for a whole class to read (set FACECOURSE_CLASS_CACHE=DIR; docs/classroom.md);
                          --seed copies matching faceprints from a course cache you trust instead of recomputing
    check-class-cache [DIR]
                          verify every file of a class cache against its hash index (default: FACECOURSE_CLASS_CACHE)
"""

from __future__ import annotations

import sys

from .errors import CourseError


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0 if argv else 2
    command, args = argv[0], argv[1:]
    try:
        if command == "fetch":
            from .dataset import fetch

            paths = fetch()
            print(f"{len(paths)} files present and verified against the manifest.")
        elif command == "verify":
            from .dataset import verify_all

            problems = verify_all()
            for line in problems:
                print(line)
            print("all files match the manifest" if not problems else f"{len(problems)} problem(s)")
            return 1 if problems else 0
        elif command == "withdraw" and len(args) >= 1:
            from .rights import withdraw_consent

            report = withdraw_consent(args[0], note=" ".join(args[1:]))
            print(report)
        elif command == "build-class-cache" and args:
            from .classcache_build import build

            options = _options(args[1:], {"--workers", "--seed"})
            if options is None:
                print(__doc__)
                return 2
            try:
                workers = int(options["--workers"][-1]) if "--workers" in options else None
            except ValueError:
                print(f"error: --workers needs a whole number, not '{options['--workers'][-1]}'", file=sys.stderr)
                return 2
            index = build(args[0], workers=workers, seeds=options.get("--seed", []))
            print(f"Class cache {args[0]}: {len(index['files'])} faceprint files, hash index {args[0]}/index.json.")
            for job in index["jobs"]:
                print(f"  {job['files']:>5} {job['name']} ({job['used_by']})")
            print(f"Give every student's server FACECOURSE_CLASS_CACHE={args[0]} (mounted read-only).")
        elif command == "check-class-cache" and len(args) <= 1:
            from .classcache import status

            info = status(args[0] if args else None)
            print(f"Class cache {info['folder']}, built {info['built']}: {info['files']} files, "
                  f"{len(info['bad'])} not matching the index; withdrawn: {', '.join(info['withdrawn']) or 'nobody'}.")
            for rel in info["bad"]:
                print("  bad:", rel)
            return 1 if info["bad"] else 0
        elif command == "forget-my-images":
            from .privacy import forget_my_images

            print(forget_my_images())
        else:
            print(__doc__)
            return 2
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


def _options(args: list[str], names: set[str]) -> dict[str, list[str]] | None:
    """``--name value`` pairs (a name may repeat); None if anything else is there."""
    if len(args) % 2:
        return None
    out: dict[str, list[str]] = {}
    for name, value in zip(args[::2], args[1::2], strict=True):  # even length checked above
        if name not in names:
            return None
        out.setdefault(name, []).append(value)
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
