"""Run one command twice on a real, small filesystem: a tmpfs of SIZE at MOUNT (in a private mount
namespace: `unshare -m python small_disk.py …`), then again after the disk is grown ("space freed").

    small_disk.py MOUNT SIZE BIGGER -- command …

Prints one JSON object: each run's exit code and stderr, and every file under MOUNT (name → sha256)
after each run. The tmpfs vanishes with the namespace, so everything is looked at here.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys


def listing(root: str) -> dict[str, str]:
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root) + "/"] = "dir"
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return found


def main() -> None:
    mount, size, bigger, _, *command = sys.argv[1:]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount], check=True)
    runs = []
    for step, limit in enumerate((size, bigger)):
        if step:
            subprocess.run(["mount", "-o", f"remount,size={limit}", mount], check=True)
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        runs.append({"rc": result.returncode, "stderr": result.stderr, "stdout": result.stdout, "files": listing(mount)})
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
