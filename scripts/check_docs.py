#!/usr/bin/env python3
"""Checks that every relative link of the documentation points somewhere.

Reads README.md and docs/**/*.md under SOURCE_DIR. For each Markdown link or
image `[text](target)` whose target is relative (not http:, https:, mailto:),
the file or folder it names must exist, and an anchor (`file.md#heading`, or
`#heading` within the page) must be the slug of a heading of that Markdown
file, as GitHub makes it: lower case, punctuation but `-` and `_` dropped,
spaces as `-`, `-1`, `-2`... appended to repeated headings. Links inside code
blocks and code spans are not links.

Usage: check_docs.py [SOURCE_DIR]. Prints each broken link as
`file:line: broken link TARGET (why)` and exits 1 when there is one.
"""
import pathlib
import re
import sys

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def slug(text: str) -> str:
    """GitHub's anchor of a heading text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def prose_lines(path: pathlib.Path):
    """(line number, text) of the lines outside fenced code blocks."""
    fenced = False
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def anchors(path: pathlib.Path, cache: dict) -> set:
    if path not in cache:
        seen: dict = {}
        found = set()
        for _, line in prose_lines(path):
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        cache[path] = found
    return cache[path]


def check(root: pathlib.Path):
    files = []
    if (root / "README.md").is_file():
        files.append(root / "README.md")
    files += sorted((root / "docs").rglob("*.md")) if (root / "docs").is_dir() else []
    problems = []
    links = 0
    cache: dict = {}
    for f in files:
        rel = f.relative_to(root).as_posix()
        for n, line in prose_lines(f):
            for m in LINK.finditer(CODE_SPAN.sub("", line)):
                target = m.group(1)
                if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:, file:
                links += 1
                path_part, _, anchor = target.partition("#")
                dest = (f.parent / path_part).resolve() if path_part else f
                if path_part.startswith("/"):
                    problems.append(f"{rel}:{n}: broken link {target} (an absolute path)")
                    continue
                if not dest.exists():
                    problems.append(f"{rel}:{n}: broken link {target} (no such file)")
                    continue
                try:
                    dest.relative_to(root)
                except ValueError:
                    problems.append(f"{rel}:{n}: broken link {target} (outside the source tree)")
                    continue
                if anchor:
                    if dest.suffix != ".md" or dest.is_dir():
                        problems.append(f"{rel}:{n}: broken link {target} (an anchor into a non-Markdown file)")
                    elif anchor not in anchors(dest, cache):
                        problems.append(f"{rel}:{n}: broken link {target} (no heading '{anchor}')")
    return files, links, problems


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files, links, problems = check(root)
    for p in problems:
        print(p)
    print(f"check_docs: {len(files)} files, {links} links, {len(problems)} broken")
    return 1 if problems or not files else 0


if __name__ == "__main__":
    sys.exit(main())
