"""Command line: ``python -m facecourse COMMAND``.

    fetch                 download (or copy from FACECOURSE_IMAGE_MIRROR) and verify every image
    verify                check every downloaded image against the manifest, report problems
    withdraw PERSON_ID    record that a person withdrew consent and delete all that was derived from them
    forget-my-images      delete everything the course derived from the photos in my_images/
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
            from .privacy import withdraw_consent

            report = withdraw_consent(args[0], note=" ".join(args[1:]))
            print(report)
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
