#!/usr/bin/env python3
"""Print, as JSON, the image cwltool would run for every CommandLineTool.

Usage: cwltool-images.py FILE[#ID]...

Each argument is loaded with cwltool's own loader (cwltool.load_tool, the
same code `cwltool FILE` runs), workflows are walked step by step into every
process they run, and each CommandLineTool's DockerRequirement is taken with
get_requirement(), which applies CWL's precedence: a tool's requirements over
an enclosing step's and workflow's requirements over the tool's hints. YAML
anchors, $import and $include are resolved by schema-salad, as at run time.

Output: a list of {"ref", "via", "id", "label", "dockerPull",
"dockerImageId", "image"}; image is what cwltool's docker.py runs: the
requirement's dockerImageId when it has one, else its dockerPull.

With --batch it reads a JSON list of {"dir", "refs"} from standard input
(many packages, one cwltool import) and prints a list of {"dir", "images"}
or {"dir", "error"}: a package cwltool cannot load is reported, not fatal.
Run it with the Python that has cwltool (Debian: /usr/bin/python3).
"""
import json
import logging
import os
import sys

logging.disable(logging.CRITICAL)

from cwltool.command_line_tool import CommandLineTool  # noqa: E402
from cwltool.context import LoadingContext  # noqa: E402
from cwltool.load_tool import load_tool  # noqa: E402
from cwltool.workflow import Workflow  # noqa: E402


def walk(ref, proc, via, out):
    if isinstance(proc, Workflow):
        for step in proc.steps:
            walk(ref, step.embedded_tool, via + [step.id.split("#", 1)[-1]], out)
    elif isinstance(proc, CommandLineTool):
        req, _ = proc.get_requirement("DockerRequirement")
        req = req or {}
        out.append({
            "ref": ref,
            "via": via,
            "id": proc.tool["id"].split("#", 1)[-1],
            "dockerPull": req.get("dockerPull"),
            "dockerImageId": req.get("dockerImageId"),
            "image": req.get("dockerImageId") or req.get("dockerPull"),
            "label": proc.tool.get("label"),
        })


def images(refs, base="."):
    out = []
    for ref in refs:
        path, _, frag = ref.partition("#")
        uri = "file://" + os.path.abspath(os.path.join(base, path)) + ("#" + frag if frag else "")
        walk(ref, load_tool(uri, LoadingContext()), [], out)
    return out


def batch(packages):
    out = []
    for pkg in packages:
        try:
            out.append({"dir": pkg["dir"], "images": images(pkg["refs"], pkg["dir"])})
        except Exception as e:  # noqa: BLE001 - any load failure is the answer
            out.append({"dir": pkg["dir"], "error": (type(e).__name__ + ": " + str(e))[:2000]})
    return out


def main(args):
    out = batch(json.load(sys.stdin)) if args == ["--batch"] else images(args)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
