#!/usr/bin/env python3
"""Checks the shape of every lesson under tutorials/ (python3 stdlib only).

For each folder NN-slug/ (NN = two digits):
  - lesson.en.md, lesson.zh.md, scenario.json and client.py exist;
  - lesson.en.md and lesson.zh.md have the same number of '## ' sections;
  - they have the same number of question lines ('> **Question:**' / '> **问题：**'),
    at least one, and each question is followed by its answer line
    ('> **Answer:**' / '> **答案：**'), with only blank '>' lines between;
  - scenario.json parses as JSON.
Prints one line per problem; exits 1 if there is any, 0 otherwise.
Usage: python3 tutorials/check_lessons.py [TUTORIALS_DIR]
"""
import json
import os
import re
import sys

FILES = ("lesson.en.md", "lesson.zh.md", "scenario.json", "client.py")
MARKS = {"en": ("> **Question:**", "> **Answer:**"), "zh": ("> **问题：**", "> **答案：**")}


def outside_fences(text):
    """The lines of a markdown text that are not inside ``` code blocks."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def questions(lines, lang, where, problems):
    q, a = MARKS[lang]
    count = 0
    for i, line in enumerate(lines):
        if line.startswith(q):
            count += 1
            j = i + 1
            while j < len(lines) and lines[j].strip() == ">":
                j += 1
            if j >= len(lines) or not lines[j].startswith(a):
                problems.append(f"{where}: question on line '{line[:50]}...' has no '{a}' line after it")
    return count


def check(root):
    problems = []
    lessons = sorted(d for d in os.listdir(root) if re.fullmatch(r"\d\d-[a-z0-9-]+", d) and os.path.isdir(os.path.join(root, d)))
    if not lessons:
        problems.append(f"{root}: no lesson folders (NN-slug) found")
    for d in lessons:
        path = os.path.join(root, d)
        missing = [f for f in FILES if not os.path.isfile(os.path.join(path, f))]
        for f in missing:
            problems.append(f"{d}: missing {f}")
        if "scenario.json" not in missing:
            try:
                with open(os.path.join(path, "scenario.json"), encoding="utf-8") as fh:
                    json.load(fh)
            except (ValueError, OSError) as e:
                problems.append(f"{d}/scenario.json: not valid JSON: {e}")
        if "lesson.en.md" in missing or "lesson.zh.md" in missing:
            continue
        lines = {}
        for lang in ("en", "zh"):
            with open(os.path.join(path, f"lesson.{lang}.md"), encoding="utf-8") as fh:
                lines[lang] = outside_fences(fh.read())
        sections = {lang: sum(1 for l in ls if l.startswith("## ")) for lang, ls in lines.items()}
        if sections["en"] != sections["zh"]:
            problems.append(f"{d}: lesson.en.md has {sections['en']} '## ' sections, lesson.zh.md has {sections['zh']}")
        qs = {lang: questions(ls, lang, f"{d}/lesson.{lang}.md", problems) for lang, ls in lines.items()}
        if qs["en"] != qs["zh"]:
            problems.append(f"{d}: lesson.en.md has {qs['en']} questions, lesson.zh.md has {qs['zh']}")
        if qs["en"] == 0:
            problems.append(f"{d}: lesson.en.md has no '> **Question:**' line")
    return lessons, problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    lessons, problems = check(root)
    for p in problems:
        print(p)
    print(f"{len(lessons)} lessons checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
