#!/usr/bin/env python3
"""End-to-end check of the CKAN portal started by .ci/ckan/start.sh.

Standard library only, so any Python 3.8+ can run it:

    . /opt/policy-toolkit-ckan/env && python3 .ci/ckan/smoke_test.py

(without the variables it reads /opt/policy-toolkit-ckan/env itself).
Creates a dataset in $CKAN_ORG with $CKAN_API_TOKEN, uploads a file as a
resource (multipart), reads it back byte for byte, patches the resource
(metadata, then a new upload), searches for it (through the Solr stand-in),
fetches the DCAT Turtle and RDF/XML serialisations, then deletes and purges
the dataset.  Exits non-zero on the first failure.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ENV_FILE = os.environ.get("CKAN_ENV_FILE", "/opt/policy-toolkit-ckan/env")


def load_env() -> dict[str, str]:
    env = {}
    if os.path.exists(ENV_FILE):
        with open(ENV_FILE, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("export ") and "=" in line:
                    k, v = line[len("export ") :].strip().split("=", 1)
                    env[k] = v.strip("'\"")
    for k in ("CKAN_URL", "CKAN_API_TOKEN", "CKAN_ORG"):
        if os.environ.get(k):
            env[k] = os.environ[k]
    missing = [k for k in ("CKAN_URL", "CKAN_API_TOKEN", "CKAN_ORG") if not env.get(k)]
    if missing:
        sys.exit(f"missing {missing} (run .ci/ckan/start.sh and source {ENV_FILE})")
    return env


ENV = load_env()
URL = ENV["CKAN_URL"].rstrip("/")
TOKEN = ENV["CKAN_API_TOKEN"]
ORG = ENV["CKAN_ORG"]


def request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, auth: bool = True
) -> tuple[int, dict[str, str], bytes]:
    h = dict(headers or {})
    if auth:
        h["Authorization"] = TOKEN
    req = urllib.request.Request(url, data=body, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, _lower(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, _lower(exc.headers), exc.read()


def _lower(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def action(name: str, data: dict | None = None, files: dict | None = None, expect: int = 200) -> dict:
    url = f"{URL}/api/3/action/{name}"
    if files:
        boundary = uuid.uuid4().hex
        parts = []
        for k, v in (data or {}).items():
            parts.append(
                (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n').encode()
                + str(v).encode()
                + b"\r\n"
            )
        for k, (filename, content, ctype) in files.items():
            parts.append(
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; '
                    f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
                ).encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + (f"--{boundary}--\r\n").encode()
        ctype = f"multipart/form-data; boundary={boundary}"
    else:
        body = json.dumps(data or {}).encode()
        ctype = "application/json"
    status, _, raw = request("POST", url, body, {"Content-Type": ctype})
    if status != expect:
        raise AssertionError(
            "{} -> HTTP {} (wanted {}): {}".format(name, status, expect, raw[:2000].decode("utf-8", "replace"))
        )
    out = json.loads(raw)
    return out.get("result") if status == 200 else out


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)
    print("  ok  " + msg)


def main() -> int:
    t0 = time.time()
    name = f"ptk-smoke-{secrets.token_hex(4)}"
    title = f"policy-toolkit smoke test {name}"
    print(f"CKAN at {URL}, organisation {ORG}, dataset {name}")

    status = action("status_show")
    check(status["ckan_version"].startswith("2.12"), "status_show: CKAN {}".format(status["ckan_version"]))
    check("dcat" in status["extensions"], "dcat plugin loaded: {}".format(status["extensions"]))

    pkg = action(
        "package_create",
        {
            "name": name,
            "title": title,
            "owner_org": ORG,
            "notes": "Created by .ci/ckan/smoke_test.py",
            "license_id": "cc-by",
            "tags": [{"name": "policy"}, {"name": "smoke-test"}],
        },
    )
    check(pkg["name"] == name and pkg["organization"]["name"] == ORG, f"package_create in {ORG}")

    payload = b"id,headline\n" + b"".join(
        b"%d,policy fact %s\n" % (i, secrets.token_hex(20).encode()) for i in range(60000)
    )  # about 3.5 MB
    res = action(
        "resource_create",
        {"package_id": pkg["id"], "name": "facts.csv", "format": "CSV"},
        files={"upload": ("facts.csv", payload, "text/csv")},
    )
    check(res["url_type"] == "upload", f"resource_create multipart upload ({len(payload)} bytes)")

    shown = action("package_show", {"id": name})
    check(len(shown["resources"]) == 1 and shown["resources"][0]["id"] == res["id"], "package_show lists the resource")
    dl_url = shown["resources"][0]["url"]
    check(dl_url.startswith(URL) and dl_url.endswith("/facts.csv"), f"download url {dl_url}")
    st, _, got = request("GET", dl_url)
    check(st == 200 and got == payload, "downloaded bytes equal the upload")

    patched = action("resource_patch", {"id": res["id"], "description": "patched"})
    check(patched["description"] == "patched" and patched["url_type"] == "upload", "resource_patch (metadata)")
    payload2 = b"id,headline\n1,replaced\n"
    patched = action("resource_patch", {"id": res["id"]}, files={"upload": ("facts-v2.csv", payload2, "text/csv")})
    st, _, got = request("GET", patched["url"])
    check(st == 200 and got == payload2, "resource_patch (new upload) and download")

    found = action("package_search", {"q": f"name:{name}"})
    check(found["count"] == 1 and found["results"][0]["name"] == name, "package_search finds it (Solr stand-in)")
    found = action("package_search", {"fq": f"organization:{ORG}", "rows": 1000})
    check(name in [p["name"] for p in found["results"]], "package_search by organisation")
    org = action("organization_show", {"id": ORG, "include_datasets": True})
    check(org["package_count"] >= 1, f"organization_show package_count {org['package_count']}")

    st, hdr, ttl = request("GET", f"{URL}/dataset/{name}.ttl")
    text = ttl.decode("utf-8", "replace")
    check(
        st == 200 and "turtle" in hdr.get("content-type", ""),
        "GET /dataset/{}.ttl -> {} {}".format(name, st, hdr.get("content-type")),
    )
    check(
        "dcat:Dataset" in text and title in text and "{}/dataset/{}".format(URL, pkg["id"]) in text,
        "Turtle has dcat:Dataset, the title and the dataset URI",
    )
    check("dcat:Distribution" in text and patched["url"] in text, "Turtle has the distribution and its URL")
    st, hdr, rdf = request("GET", f"{URL}/dataset/{name}.rdf")
    check(
        st == 200 and b"rdf:RDF" in rdf and title.encode() in rdf,
        "GET /dataset/{}.rdf -> RDF/XML ({})".format(name, hdr.get("content-type")),
    )

    action("package_delete", {"id": name})
    found = action("package_search", {"q": f"name:{name}"})
    check(found["count"] == 0, "package_delete removes it from search")
    action("dataset_purge", {"id": name})
    action("package_show", {"id": name}, expect=404)
    check(True, "dataset_purge: package_show now 404")
    print("smoke test passed in %.1fs" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        sys.exit(1)
