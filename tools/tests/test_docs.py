"""The documentation stays true to the repository (no servers, no build needed):

  - no file of the repository refers to documents it does not hold;
  - the environment-variable tables of docs/USAGE.md list exactly the CABENCH_* variables
    the code, the scripts and the launchers read;
  - the layout table of docs/USAGE.md names every top-level folder and every folder of
    lib/, and nothing else;
  - every relative link of README.md, docs/*.md and results/**/README.md points to a file
    of the repository (and a #fragment to a heading of a Markdown file), and every
    repository path README.md and docs/*.md name in backticks exists;
  - docs/USAGE.md lists every flag cabench declares, and docs/SCENARIOS.md every scenario
    key the loader knows and every scenario of scenarios/.

Each scanner is also checked on planted text whose right answer is known, so a scanner
that finds nothing cannot pass by accident.
"""
import os
import re
import unittest

from helpers import ROOT

USAGE = os.path.join(ROOT, "docs", "USAGE.md")
SCENARIOS_DOC = os.path.join(ROOT, "docs", "SCENARIOS.md")
THIS = os.path.abspath(__file__)
NAME = r"CABENCH_[A-Z0-9_]+"

# Documents the repository does not hold, which nothing may cite. Built from pieces so
# that this file does not cite them itself.
OUTSIDE = re.compile("|".join([r"DESIGN\.md", r"STYLE\.md", "seed" + "/",
                               "performance" + "-testing", r"\.\./shared"]))


def read(path):
    """The text of `path`, or None for a binary file."""
    with open(path, "rb") as f:
        raw = f.read()
    if b"\0" in raw:
        return None
    return raw.decode("utf-8", "replace")


def ignored_top_level():
    """Top-level names .gitignore leaves out (patterns ending in '/'), as regexes."""
    out = [re.compile(r"^\.git$")]
    for line in (read(os.path.join(ROOT, ".gitignore")) or "").splitlines():
        line = line.strip()
        if line.endswith("/") and "/" not in line.strip("/"):
            glob = line.strip("/")
            out.append(re.compile("^" + re.escape(glob).replace(r"\*", ".*") + "$"))
    return out


def repository_files():
    """Every file of the repository: build folders, run output, .git and caches left out."""
    skip_top = ignored_top_level()
    for folder, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(folder, ROOT)
        if rel == ".":
            dirs[:] = [d for d in dirs if not any(p.match(d) for p in skip_top)]
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".cache")
                   and not (rel == "results" and d == "runs")]
        for f in files:
            yield os.path.join(folder, f)


def outside_references(text):
    """[(line number, line)] of `text` that cite a document the repository lacks."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line)]


# -- environment variables ---------------------------------------------------------------

def environment_reads(paths):
    """The CABENCH_* variables that the files at `paths` read from the environment:
    C++ (not tests): a string literal that is exactly the name (getenv and the endpoint
    tables); Python: such a literal; shell: ${NAME:-...} and the like, or $NAME of a name
    no script assigns; Kubernetes manifests: ${NAME} (envsubst), $(NAME) and a
    container's `- name: NAME`. Macros (#define NAME, NAME(...) at a line's start) and
    CMake options are not variables."""
    macros, found = set(), set()
    shell_used, shell_set = set(), set()
    for path in paths:
        text = read(path)
        if text is None:
            continue
        first = text.split("\n", 1)[0]
        if path.endswith((".cc", ".h", ".def", ".in")):
            macros |= set(re.findall(r"#\s*(?:define|ifndef|undef)\s+(" + NAME + ")", text))
            macros |= set(re.findall(r"(?m)^\s*(" + NAME + r")\(", text))
            if not path.endswith("_test.cc"):
                found |= set(re.findall(r'"(' + NAME + ')"', text))
        elif path.endswith(".py") or "python" in first:
            found |= set(re.findall(r"[\"'](" + NAME + r")[\"']", text))
        elif path.endswith((".sh", ".sbatch")) or re.match(r"#!.*\b(bash|sh)\b", first):
            found |= set(re.findall(r"\$\{(" + NAME + r")(?::?[-=?+])", text))
            shell_used |= set(re.findall(r"\$\{?(" + NAME + r")\b", text))
            shell_set |= set(re.findall(
                r"(?m)^\s*(?:export\s+|local\s+|readonly\s+)?(" + NAME + r")=", text))
        elif path.endswith((".yaml", ".yml")):
            for groups in re.findall(r"\$\{(" + NAME + r")\}|\$\((" + NAME + r")\)|"
                                     r"-\s*name:\s*(" + NAME + r")\b", text):
                found |= {g for g in groups if g}
    return (found | (shell_used - shell_set)) - macros


def section(path, heading):
    """The text of `path` under the `## heading`, up to the next `## `."""
    text = read(path)
    m = re.search(r"(?ms)^## " + re.escape(heading) + r"\s*$(.*?)(?=^## |\Z)", text)
    if m is None:
        raise AssertionError(f"{os.path.relpath(path, ROOT)} has no section '## {heading}'")
    return m.group(1)


def first_column_names(text, pattern):
    """The backticked names matching `pattern` in the first column of the tables in
    `text`."""
    out = set()
    for line in text.splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            first = line.split("|")[1]
            out |= set(re.findall(r"`(" + pattern + r")`", first))
    return out


class EnvironmentScannerTest(unittest.TestCase):
    """The scanner on planted files whose right answer is known."""

    def scan(self, files):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for name, text in files.items():
                path = os.path.join(tmp, name)
                with open(path, "w") as f:
                    f.write(text)
                paths.append(path)
            return environment_reads(paths)

    def test_reads_are_found_and_macros_and_internal_names_are_not(self):
        got = self.scan({
            "a.cc": '#define CABENCH_X_H_\nconst char* u = std::getenv("CABENCH_CC_VAR");\n'
                    'CABENCH_COUNTER(kOps, "ops")\n// see CABENCH_IN_A_COMMENT\n',
            "a_test.cc": 'setenv("CABENCH_TEST_ONLY", "1", 1);\n',
            "b.py": 'import os\nx = os.environ.get("CABENCH_PY_VAR")\nCABENCH_PY_IDENT = 1\n',
            "c.sh": '#!/bin/bash\nCABENCH_INTERNAL=$(pwd)\necho "$CABENCH_INTERNAL"\n'
                    'jobs=${CABENCH_SH_DEFAULT:-2}\necho "$CABENCH_SH_PLAIN"\n'
                    'cmake -DCABENCH_OPTION=ON\n',
            "d.yaml": 'image: ${CABENCH_IMG}\nenv:\n  - name: CABENCH_POD_VAR\n'
                      'args: ["--x=$(CABENCH_POD_VAR)"]\n',
        })
        self.assertEqual(got, {"CABENCH_CC_VAR", "CABENCH_PY_VAR", "CABENCH_SH_DEFAULT",
                               "CABENCH_SH_PLAIN", "CABENCH_IMG", "CABENCH_POD_VAR"})


class EnvironmentTableTest(unittest.TestCase):

    def test_the_table_lists_exactly_the_variables_read(self):
        paths = [p for top in ("lib", "bench", "tools", "fixtures", "deploy")
                 for p in repository_files_under(top) if os.path.abspath(p) != THIS]
        read_ = environment_reads(paths)
        # Known answers, one per kind of file: a scan that finds nothing cannot pass.
        self.assertLessEqual({"CABENCH_CACHE_URL", "CABENCH_MACHINE", "CABENCH_CLANGXX",
                              "CABENCH_IMAGE"}, read_)
        listed = first_column_names(section(USAGE, "Environment variables"), NAME)
        self.assertEqual(sorted(read_ - listed), [],
                         "read by the code but missing from docs/USAGE.md's tables")
        self.assertEqual(sorted(listed - read_), [],
                         "in docs/USAGE.md's tables but read by nothing")


def repository_files_under(top):
    root = os.path.join(ROOT, top)
    return [p for p in repository_files() if p.startswith(root + os.sep)]


# -- layout --------------------------------------------------------------------------------

class LayoutTest(unittest.TestCase):

    def test_the_layout_table_names_every_folder(self):
        skip = ignored_top_level()
        folders = {d + "/" for d in os.listdir(ROOT)
                   if os.path.isdir(os.path.join(ROOT, d)) and not any(p.match(d) for p in skip)}
        lib = os.path.join(ROOT, "lib")
        folders |= {f"lib/{d}/" for d in os.listdir(lib)
                    if os.path.isdir(os.path.join(lib, d)) and d != "__pycache__"}
        self.assertIn("lib/engine/", folders)
        listed = first_column_names(section(USAGE, "Layout"), r"[\w.][\w./-]*/")
        self.assertEqual(sorted(folders - listed), [],
                         "folders missing from the layout table of docs/USAGE.md")
        self.assertEqual(sorted(listed - folders), [],
                         "the layout table of docs/USAGE.md names folders that do not exist")


# -- links and paths -----------------------------------------------------------------------

def markdown_files():
    out = [os.path.join(ROOT, "README.md")]
    docs = os.path.join(ROOT, "docs")
    out += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    out += sorted(p for p in repository_files_under("results")
                  if os.path.basename(p) == "README.md")
    return out


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped,
    spaces to '-'."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text):
    """The anchors of the headings of Markdown `text` (a repeated heading gets -1, -2...)."""
    seen, out = {}, set()
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(text):
    """The targets of the Markdown links and images of `text`, code left out."""
    text = re.sub(r"(?s)```.*?```", "", text)
    text = re.sub(r"(?m)^(    |\t).*$", "", text)  # indented code
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)


def broken_links(path, text):
    """[(target, why)] of the relative links of the Markdown file at `path`."""
    out = []
    for target in links(text):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, fragment = target.partition("#")
        if not file_part:
            if fragment not in anchors(text):
                out.append((target, f"no heading #{fragment} here"))
            continue
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if not (dest == ROOT or dest.startswith(ROOT + os.sep)):
            out.append((target, "outside the repository"))
        elif not os.path.exists(dest):
            out.append((target, "no such file"))
        elif fragment and dest.endswith(".md") and fragment not in anchors(read(dest)):
            out.append((target, f"no heading #{fragment} in {os.path.relpath(dest, ROOT)}"))
    return out


def missing_paths(text, top_level):
    """Backticked repository paths in `text` (starting with a top-level folder) that do
    not exist; paths with placeholders or globs are left alone."""
    out = []
    for token in re.findall(r"`([^`\s]+)`", text):
        token = token.rstrip(".,:;")
        if not re.fullmatch(r"[\w.][\w./-]*", token) or "/" not in token:
            continue
        if token.split("/", 1)[0] not in top_level:
            continue
        if not os.path.exists(os.path.join(ROOT, token)):
            out.append(token)
    return out


class LinksTest(unittest.TestCase):

    def test_the_checker_finds_planted_broken_links(self):
        path = os.path.join(ROOT, "docs", "PLANTED.md")
        text = ("# A heading\n\n[ok](USAGE.md#layout) [self](#a-heading) "
                "[web](https://example.org/x) `[not a link](nowhere.md)`\n"
                "[gone](NOWHERE.md) [bad anchor](USAGE.md#no-such-heading) [no](#nothing) "
                "[escape](../../etc/passwd) ![img](../results/stampede/inflight.png)\n")
        self.assertEqual([t for t, _ in broken_links(path, text)],
                         ["NOWHERE.md", "USAGE.md#no-such-heading", "#nothing",
                          "../../etc/passwd"])
        self.assertEqual(slug("Servers: `tools/servers`"), "servers-toolsservers")
        self.assertEqual(slug("A Valkey/Redis Cluster cache"), "a-valkeyredis-cluster-cache")
        self.assertEqual(missing_paths("`lib/engine/run.h` `lib/engine/nope.h` "
                                       "`results/runs/<date>/` `OUT/series/x.json`",
                                       {"lib", "results"}), ["lib/engine/nope.h"])

    def test_every_relative_link_points_to_a_file(self):
        files = markdown_files()
        self.assertGreater(len(files), 8)
        problems = []
        for path in files:
            for target, why in broken_links(path, read(path)):
                problems.append(f"{os.path.relpath(path, ROOT)}: ({target}): {why}")
        self.assertEqual(problems, [])

    def test_every_named_repository_path_exists(self):
        top_level = {d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d))}
        top_level -= {d for d in top_level if any(p.match(d) for p in ignored_top_level())}
        problems = []
        for path in [os.path.join(ROOT, "README.md")] + [
                p for p in markdown_files() if os.sep + "docs" + os.sep in p]:
            for token in missing_paths(read(path), top_level):
                problems.append(f"{os.path.relpath(path, ROOT)}: `{token}` does not exist")
        self.assertEqual(problems, [])


# -- documents outside the repository ----------------------------------------------------------

class OutsideDocumentsTest(unittest.TestCase):

    def test_the_pattern_finds_planted_citations(self):
        planted = ("see DESIGN" + ".md\nok\n// STYLE" + ".md section 10\nper " + "seed" + "/notes\n"
                   "the performance" + "-testing guide\nin .." + "/shared/x\nDESIGNxmd\n")
        self.assertEqual([n for n, _ in outside_references(planted)], [1, 3, 4, 5, 6])

    def test_no_file_refers_to_documents_outside_the_repository(self):
        problems = []
        count = 0
        for path in repository_files():
            text = read(path)
            if text is None:
                continue
            count += 1
            for n, line in outside_references(text):
                problems.append(f"{os.path.relpath(path, ROOT)}:{n}: {line[:120]}")
        self.assertGreater(count, 100)
        self.assertEqual(problems, [])


# -- flags, scenario keys, scenarios -------------------------------------------------------------

class ReferenceTablesTest(unittest.TestCase):

    def test_usage_lists_every_cabench_flag(self):
        declared = set(re.findall(r"ABSL_FLAG\(\s*[\w:]+,\s*(\w+),",
                                  read(os.path.join(ROOT, "bench", "flags.cc"))))
        self.assertIn("max_outage_ms", declared)
        listed = set(re.findall(r"`--(\w+)", section(USAGE, "The `cabench` executable")))
        listed = {f for f in listed if not f.startswith("benchmark_")}  # Google Benchmark's
        self.assertEqual(sorted(declared - listed), [], "flags missing from docs/USAGE.md")
        self.assertEqual(sorted(listed - declared), [],
                         "docs/USAGE.md names flags cabench does not declare")

    def test_scenarios_lists_every_key_and_every_scenario(self):
        loader = read(os.path.join(ROOT, "lib", "workload", "scenario_loader.cc"))
        known = re.search(r"kKnownKeys\[\] = \{(.*?)\};", loader, re.S).group(1)
        keys = set(re.findall(r'"(\w+)"', known))
        self.assertIn("early_refresh_beta", keys)
        listed = first_column_names(section(SCENARIOS_DOC, "Keys"), r"\w+")
        self.assertEqual(sorted(keys - listed), [], "keys missing from docs/SCENARIOS.md")
        self.assertEqual(sorted(listed - keys), [], "docs/SCENARIOS.md lists unknown keys")
        scenarios = {f[:-5] for f in os.listdir(os.path.join(ROOT, "scenarios"))
                     if f.endswith(".yaml")}
        shipped = first_column_names(section(SCENARIOS_DOC, "The scenarios in `scenarios/`"),
                                     r"\w+")
        self.assertEqual(sorted(scenarios ^ shipped), [],
                         "docs/SCENARIOS.md's list differs from scenarios/")


if __name__ == "__main__":
    unittest.main()
