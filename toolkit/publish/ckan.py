"""Upload a release to a CKAN portal through its action API (ckanapi), idempotently.

One CKAN dataset per release; every published file is a resource uploaded as a file, its
SHA-256 stored in the resource's ``hash`` and ``sha256`` fields. A run first reads what
the portal holds and makes a plan (create / update / unchanged / delete per resource), so a
second run with nothing changed changes nothing, a changed file replaces only its
resource, and an interrupted run is completed by the next one without duplicates.
After uploading, the dataset is read back and every resource downloaded and checksummed.

Before anything is planned, the portal is checked read-only (it answers ``status_show``,
the token names a user who may create datasets in the organisation, the organisation
exists), so a wrong token or organisation fails before anything changes, and a dry run
says what it checked. A dry run needs no token: it then reads as an anonymous visitor.

The API token is read from an environment variable and never printed; whatever the portal
answers is printed only after :func:`toolkit.publish.credentials.redact` (a server may echo
the ``Authorization`` header), and a ``--url`` with ``user:password@`` is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV

from toolkit import __version__
from toolkit.config import Settings
from toolkit.errors import LoadError, PortalError, PortalUnavailable, UsageError
from toolkit.export.formats import BY_SUFFIX
from toolkit.graph import iris
from toolkit.progress import progress
from toolkit.publish.catalog import catalog_conf
from toolkit.publish.credentials import check_http_url, redact, url_for_display
from toolkit.publish.release import MANIFEST, release_info

TOKEN_ENV = "CKAN_API_TOKEN"
DEFAULT_NAME = "policy-news-facts"
#: files of the release that are not uploaded as resources (the manifest is the plan's source)
NOT_UPLOADED = {MANIFEST}
#: file suffix -> CKAN resource format: the formats' own (:data:`~toolkit.export.formats.FORMATS`)
FORMATS = {**{"." + sfx: f.ckan for sfx, f in BY_SUFFIX.items()}, ".csv": "CSV", ".json": "JSON"}


@dataclass
class ResourceStep:
    path: str
    action: str  # create | update | unchanged | delete
    sha256: str
    resource_id: str | None = None


@dataclass
class CkanReport:
    url: str
    dataset: str
    dataset_action: str  # create | update | unchanged
    steps: list[ResourceStep] = field(default_factory=list)
    dry_run: bool = False
    verified: bool | None = None
    problems: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # what the read-only checks found

    def to_text(self) -> str:
        head = "plan (dry run, nothing changed)" if self.dry_run else "published"
        lines = ["checked (read-only):", *[f"  {c}" for c in self.checks]] if self.dry_run else []
        lines.append(f"{head}: dataset {self.dataset} on {self.url}: {self.dataset_action}")
        lines += [f"  {s.action:<9} {s.path}" for s in self.steps]
        c = Counter(s.action for s in self.steps)
        lines.append(
            f"resources: {c['create']} created, {c['update']} replaced, {c['unchanged']} unchanged, "
            f"{c['delete']} deleted"
        )
        if self.verified is True:
            lines.append("verified: package_show matches the plan and every download has the manifest's SHA-256")
        elif self.verified is False:
            lines += ["NOT verified:", *[f"  {p}" for p in self.problems]]
        return "\n".join(lines)


class _Portal(RemoteCKAN):  # type: ignore[misc]
    """RemoteCKAN that remembers the HTTP status, so that 5xx can be told from 4xx, and whether
    the portal has answered at all in this run (a refused connection then means "it went down",
    not "wrong URL")."""

    last_status: int | None = None
    answered: bool = False
    shown_url: str = ""
    timeout: float = 60.0

    def _request_fn(self, url: str, data: Any, headers: Any, files: Any, requests_kwargs: Any) -> tuple[int, str]:
        status, text = super()._request_fn(url, data, headers, files, requests_kwargs)
        self.last_status = status
        self.answered = True
        return status, text

    def redact(self, text: str) -> str:
        """``text`` (from the portal) fit to print: the token and any credentials masked."""
        return redact(text, [self.apikey])


@dataclass
class RetryPolicy:
    attempts: int = 4
    first_delay: float = 0.5
    factor: float = 2.0
    sleep: Callable[[float], None] = time.sleep


def _token(env: str, *, required: bool) -> str | None:
    token = os.environ.get(env, "")
    if not token and required:
        raise UsageError(
            f"no CKAN API token: set the environment variable {env}",
            hint="`--dry-run` works without one (read-only, as an anonymous visitor)",
        )
    return token or None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (requests wraps urllib3, which wraps the socket's)."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]


def _unreachable(portal: _Portal, action: str, exc: Exception, attempts: int) -> PortalUnavailable:
    """The message for a portal that could not be reached, with the advice that fits the cause.

    A host that does not resolve, or refuses the connection before the portal has answered
    once in this run, is most likely a wrong URL: say "check the URL". A timeout, or a refusal
    after the portal had answered (it went down mid-run), is worth retrying later.
    """
    where = portal.shown_url
    host = urlsplit(where).hostname or where
    causes = list(_causes(exc))
    tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
    if not portal.answered:
        if any(isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError" for e in causes):
            return PortalUnavailable(
                f"{action}: cannot reach the portal at {where}: the host name {host!r} does not resolve ({tries})",
                hint="check the URL (--url)",
            )
        if any(isinstance(e, ConnectionRefusedError) for e in causes):
            return PortalUnavailable(
                f"{action}: cannot reach the portal at {where}: the connection was refused ({tries})",
                hint="check the URL (--url), its port, and that the portal is running",
            )
    kind = "timed out" if isinstance(exc, requests.Timeout) else type(exc).__name__
    return PortalUnavailable(
        f"{action}: cannot reach the portal at {where} ({kind}), {tries}; nothing is lost, run the command again"
    )


def _call(portal: _Portal, policy: RetryPolicy, action: str, data: dict[str, Any], files: Any = None) -> Any:
    delay = policy.first_delay
    for attempt in range(1, policy.attempts + 1):
        portal.last_status = None
        try:
            if files:
                for _name, fh in files.values():
                    fh.seek(0)  # a retried upload must send the whole file again
            return portal.call_action(action, data, files=files, requests_kwargs={"timeout": portal.timeout})
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt == policy.attempts:
                raise _unreachable(portal, action, exc, attempt) from None
        except (NotAuthorized, NotFound, ValidationError):
            raise
        except CKANAPIError as exc:
            status = portal.last_status or 0
            if status < 500:
                raise PortalError(f"{action} failed with HTTP {status}: {_short(portal, exc)}") from None
            if attempt == policy.attempts:
                raise PortalUnavailable(
                    f"{action}: the portal at {portal.shown_url} answered HTTP {status}, {policy.attempts} attempts; "
                    "nothing is lost, run the command again"
                ) from None
        policy.sleep(delay)
        delay *= policy.factor
    raise AssertionError("unreachable")  # pragma: no cover


def _short(portal: _Portal, exc: Exception) -> str:
    text = portal.redact(str(exc))
    return text if len(text) < 300 else text[:300] + "..."


def _dataset_fields(
    settings: Settings, catalog: Graph, manifest: dict[str, Any], org: str, name: str
) -> dict[str, Any]:
    """CKAN dataset fields from the DCAT description of the release."""
    conf = catalog_conf(settings)
    ds = URIRef(iris.dataset(settings.base_iri, "release"))

    def lang(pred: URIRef, code: str) -> str:
        for o in catalog.objects(ds, pred):
            if isinstance(o, Literal) and o.language == code:
                return str(o)
        return ""

    keywords = sorted({str(k) for k in catalog.objects(ds, DCAT.keyword)})
    sources = sorted(str(s) for s in catalog.objects(ds, PROV.wasDerivedFrom))
    period = catalog.value(ds, DCTERMS.temporal)
    extras = {
        "uri": str(ds),
        "dcat_type": str(DCAT.Dataset),
        "issued": conf["issued"],
        "modified": conf["modified"],
        "conforms_to": json.dumps([str(o) for o in sorted(catalog.objects(ds, DCTERMS.conformsTo))]),
        "was_derived_from": json.dumps(sources),
        "language": json.dumps(sorted(str(o) for o in catalog.objects(ds, DCTERMS.language))),
        "theme": json.dumps(sorted(str(o) for o in catalog.objects(ds, DCAT.theme))),
        "spatial_uri": " ".join(sorted(str(o) for o in catalog.objects(ds, DCTERMS.spatial))),
        "temporal_start": str(catalog.value(period, DCAT.startDate)) if period else "",
        "temporal_end": str(catalog.value(period, DCAT.endDate)) if period else "",
        "title_zh": lang(DCTERMS.title, "zh"),
        "license_uri": conf["license"],
        "publisher_name": conf["publisher-en"],
        "contact_email": conf["contact-email"],
        "triples": str(manifest["triples"]),
        "generator": f"policy-toolkit {__version__}",
    }
    return {
        "name": name,
        "title": lang(DCTERMS.title, "en") or name,
        "notes": lang(DCTERMS.description, "en") + "\n\n" + lang(DCTERMS.description, "zh"),
        "owner_org": org,
        "license_id": "cc-by",
        "version": conf["version"],
        "url": conf["homepage"],
        "author": conf["publisher-en"],
        "author_email": conf["contact-email"],
        "tags": [{"name": k} for k in keywords if _tag_ok(k)],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
    }


def _tag_ok(tag: str) -> bool:
    return 2 <= len(tag) <= 100 and all(c.isalnum() or c in " -_." for c in tag)


def _same_dataset(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def norm(d: dict[str, Any]) -> dict[str, Any]:
        return {
            "title": d.get("title") or "",
            "notes": d.get("notes") or "",
            "license_id": d.get("license_id") or "",
            "version": d.get("version") or "",
            "url": d.get("url") or "",
            "author": d.get("author") or "",
            "author_email": d.get("author_email") or "",
            "tags": sorted(t["name"] for t in d.get("tags", [])),
            "extras": sorted((e["key"], e["value"]) for e in d.get("extras", [])),
        }

    org = current.get("organization") or {}
    return norm(current) == norm(wanted) and wanted["owner_org"] in (org.get("name"), org.get("id"))


def _resource_fields(settings: Settings, catalog: Graph, entry: dict[str, Any]) -> dict[str, Any]:
    path = entry["path"]
    dist = URIRef(iris.distribution(settings.base_iri, path))
    titles = {o.language: str(o) for o in catalog.objects(dist, DCTERMS.title) if isinstance(o, Literal)}
    return {
        "name": path,
        "description": f"{titles.get('en', path)} / {titles.get('zh', path)}",
        "format": FORMATS.get(Path(path).suffix, ""),
        "mimetype": entry["media_type"],
        "hash": "sha256:" + entry["sha256"],
        "sha256": entry["sha256"],
        "size": entry["bytes"],
        "distribution_uri": str(dist),
    }


def plan(current: dict[str, Any] | None, manifest: dict[str, Any]) -> tuple[list[ResourceStep], list[str]]:
    """Resource steps, and the ids of duplicate resources to delete, from what the portal holds."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for res in (current or {}).get("resources", []):
        by_name.setdefault(res.get("name", ""), []).append(res)
    steps: list[ResourceStep] = []
    extra_ids: list[str] = []
    wanted = [f for f in manifest["files"] if f["path"] not in NOT_UPLOADED]
    for entry in wanted:
        have = by_name.pop(entry["path"], [])
        ok = [r for r in have if r.get("sha256") == entry["sha256"] and r.get("url_type") == "upload"]
        keep = ok[0] if ok else (have[0] if have else None)
        extra_ids += [r["id"] for r in have if r is not keep]
        if keep is None:
            steps.append(ResourceStep(entry["path"], "create", entry["sha256"]))
        elif ok:
            steps.append(ResourceStep(entry["path"], "unchanged", entry["sha256"], keep["id"]))
        else:
            steps.append(ResourceStep(entry["path"], "update", entry["sha256"], keep["id"]))
    for name, resources in sorted(by_name.items()):
        for res in resources:
            steps.append(ResourceStep(name, "delete", res.get("sha256", ""), res["id"]))
    return steps, extra_ids


def publish_ckan(
    settings: Settings,
    url: str,
    org: str,
    *,
    name: str | None = None,
    dry_run: bool = False,
    token_env: str = TOKEN_ENV,
    retry: RetryPolicy | None = None,
    timeout: float = 60.0,
) -> CkanReport:
    """Create or update the release's dataset on a CKAN portal; see the module docstring."""
    check_url(url)
    shown = url_for_display(url)
    name = name or settings.catalog.get("ckan-name", DEFAULT_NAME)
    manifest = release_info(settings)
    if not all(f["verified"] for f in manifest["files"]):
        raise LoadError("the release does not match its manifest", file=settings.release_dir, hint="run `build`")
    catalog = Graph().parse(settings.release_dir / "catalog.ttl", format="turtle")
    token = _token(token_env, required=not dry_run)
    retry = retry or RetryPolicy()
    portal = _Portal(url.rstrip("/"), apikey=token, user_agent=f"policy-toolkit/{__version__}")
    portal.shown_url, portal.timeout = shown, timeout
    try:
        checks = preflight(portal, retry, org, token_env)
        report = _publish(settings, portal, retry, shown, org, name, manifest, catalog, dry_run, timeout)
        report.checks = checks
        return report
    except NotAuthorized:
        raise PortalError(
            f"the portal refused the API token in {token_env} (not authorised)",
            hint=f"check {token_env}, and that its user may edit datasets of organisation {org!r}",
        ) from None
    except ValidationError as exc:
        raise PortalError(_validation_message(portal, exc, name, org)) from None
    except NotFound as exc:
        raise PortalError(f"not found on the portal: {_short(portal, exc)}") from None
    finally:
        portal.close()


def check_url(url: str) -> None:
    """Refuse a ``--url`` that is not http(s) or that carries credentials, without echoing them."""
    check_http_url(
        url,
        "--url",
        credentials_hint=f"pass the portal's address alone and put the API token in {TOKEN_ENV} (or --token-env)",
        example="https://data.example.org",
    )


def preflight(portal: _Portal, retry: RetryPolicy, org: str, token_env: str) -> list[str]:
    """Read-only checks before a plan: the portal answers, the token is accepted and may create
    datasets in ``org``, the organisation exists. Returns what was found, one line each;
    raises PortalError (exit 1) with what to fix when a check fails."""
    where = portal.shown_url
    try:
        status = _call(portal, retry, "status_show", {})
    except PortalUnavailable:
        raise
    except (NotFound, NotAuthorized, PortalError) as exc:
        detail = exc.message if isinstance(exc, PortalError) else f"status_show: {type(exc).__name__}"
        raise PortalError(
            f"{where} does not answer as a CKAN portal ({detail})",
            hint="check the URL (--url): the portal's root address, e.g. https://data.example.org",
        ) from None
    checks = [f"the portal answers at {where} (CKAN {status.get('ckan_version', '?')})"]
    user: dict[str, Any] | None = None
    if portal.apikey:
        try:
            user = _call(portal, retry, "user_show", {})
        except (NotFound, NotAuthorized):
            user = None
        if not user or not user.get("name"):
            raise PortalError(
                f"the portal refused the API token in {token_env}: it names no user on {where}",
                hint=f"check {token_env}: a token of a user of this portal (user settings -> API tokens)",
            )
        checks.append(f"the API token in {token_env} is accepted (user {user['name']})")
    else:
        checks.append(f"no token in {token_env}: read as an anonymous visitor (a private dataset would not be seen)")
    try:
        found = _call(portal, retry, "organization_show", {"id": org, "include_datasets": False})
    except NotFound:
        raise PortalError(f"unknown organisation {org!r} on {where}", hint="create it or pass --org") from None
    checks.append(f"organisation {org!r} exists ({found.get('title') or found.get('name')})")
    if user is not None:
        mine = _call(portal, retry, "organization_list_for_user", {"permission": "create_dataset"})
        if not any(org in (o.get("name"), o.get("id")) for o in mine):
            raise PortalError(
                f"user {user['name']} may not create datasets in organisation {org!r} on {where}",
                hint="ask an admin of the organisation to make the user an editor, or pass another --org",
            )
        checks.append(f"user {user['name']} may create and update datasets in {org!r}")
    return checks


def _validation_message(portal: _Portal, exc: ValidationError, name: str, org: str) -> str:
    err = exc.error_dict if hasattr(exc, "error_dict") else {}
    text = portal.redact(json.dumps(err, ensure_ascii=False))
    if "owner_org" in err:
        return f"unknown organisation {org!r} on the portal (or the token's user is not a member): {text}"
    if "name" in err and "already in use" in text:
        return f"the dataset name {name!r} is taken by a dataset you cannot update; choose another with --name"
    return f"the portal rejected the metadata: {text}"


def _publish(
    settings: Settings,
    portal: _Portal,
    retry: RetryPolicy,
    url: str,
    org: str,
    name: str,
    manifest: dict[str, Any],
    catalog: Graph,
    dry_run: bool,
    timeout: float,
) -> CkanReport:
    try:
        current = _call(portal, retry, "package_show", {"id": name})
        if current.get("state") == "deleted":
            current = None
    except NotFound:
        current = None
    wanted = _dataset_fields(settings, catalog, manifest, org, name)
    dataset_action = "create" if current is None else ("unchanged" if _same_dataset(current, wanted) else "update")
    steps, duplicates = plan(current, manifest)
    report = CkanReport(url=url, dataset=name, dataset_action=dataset_action, steps=steps, dry_run=dry_run)
    if dry_run:
        return report
    if dataset_action == "create":
        current = _call(portal, retry, "package_create", wanted)
    elif dataset_action == "update":
        current = _call(portal, retry, "package_patch", {"id": current["id"], **wanted})  # type: ignore[index]
    assert current is not None
    entries = {f["path"]: f for f in manifest["files"]}
    for rid in duplicates:
        _call(portal, retry, "resource_delete", {"id": rid})
    todo = [s for s in steps if s.action != "unchanged"]
    with progress("uploading files", len(todo)) as tick:
        for step in todo:
            if step.action == "delete":
                _call(portal, retry, "resource_delete", {"id": step.resource_id})
                tick.advance()
                continue
            fields = _resource_fields(settings, catalog, entries[step.path])
            with open(settings.release_dir / step.path, "rb") as fh:
                files = {"upload": (Path(step.path).name, fh)}
                if step.action == "create":
                    res = _call(portal, retry, "resource_create", {"package_id": current["id"], **fields}, files)
                else:
                    res = _call(portal, retry, "resource_update", {"id": step.resource_id, **fields}, files)
            step.resource_id = res["id"]
            tick.advance()
    report.problems = verify(portal, retry, name, manifest, timeout)
    report.verified = not report.problems
    return report


def verify(portal: _Portal, retry: RetryPolicy, name: str, manifest: dict[str, Any], timeout: float) -> list[str]:
    """Read the dataset back: the resources must be exactly the release's files, each
    downloading to the bytes the manifest's SHA-256 names."""
    problems = []
    pkg = _call(portal, retry, "package_show", {"id": name})
    wanted = {f["path"]: f["sha256"] for f in manifest["files"] if f["path"] not in NOT_UPLOADED}
    names = [r["name"] for r in pkg.get("resources", [])]
    if sorted(names) != sorted(wanted):
        problems.append(f"resources on the portal {sorted(names)} differ from the release {sorted(wanted)}")
    session = portal.session or requests.Session()
    checked = [r for r in pkg.get("resources", []) if r["name"] in wanted]
    with progress("verifying downloads", len(checked)) as tick:
        for res in checked:
            expected = wanted[res["name"]]
            tick.advance()
            try:
                got = session.get(res["url"], headers={"Authorization": portal.apikey}, timeout=timeout)
            except requests.RequestException as exc:
                problems.append(f"{res['name']}: download failed ({type(exc).__name__})")
                continue
            digest = hashlib.sha256(got.content).hexdigest()
            if got.status_code != 200 or digest != expected:
                problems.append(
                    f"{res['name']}: downloaded HTTP {got.status_code}, "
                    f"sha256 {digest[:16]}…, expected {expected[:16]}…"
                )
    return problems
