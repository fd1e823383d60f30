"""A Hugging Face Hub stand-in on loopback, for tests only (the product never imports it).

The real Hub is unreachable from our machines, so the publishing tests point the real
``huggingface_hub`` and ``transformers`` clients at this server with ``HF_ENDPOINT`` and nothing
patched. It implements the part of the Hub's HTTP API those clients use to push and to load:

    GET  /api/whoami-v2                                   token -> user, orgs, token role
    POST /api/repos/create                                409 when it exists (exist_ok relies on it)
    POST /api/validate-yaml                               a README's metadata, checked with huggingface_hub
    POST /api/{type}s/{repo}/preupload/{rev}              every file "regular" (inline), with its current oid
    POST /api/{type}s/{repo}/commit/{rev}                 NDJSON: header, then one "file" line per file
    GET  /api/{type}s/{repo}[/revision/{rev}]             repo info: sha, siblings, card data
    GET  /api/{type}s/{repo}/tree/{rev}[/{path}]          files and folders (recursive=true for all)
    POST /api/{type}s/{repo}/paths-info/{rev}             the entries among the given paths
    HEAD/GET /[{type}s/]{repo}/resolve/{rev}/{path}       bytes, with X-Repo-Commit and ETag
    GET  /api/agent-harnesses                             an empty registry (the `hf` CLI asks)

Errors carry the ``X-Error-Code`` headers the clients turn into their own exceptions: a missing repo
is ``RepoNotFound`` (401, as on the Hub, also for a private repo read without its owner's token), a
missing file ``EntryNotFound`` (404), an unknown branch or commit ``RevisionNotFound`` (404).
Writes need a token whose user may write to the namespace (403 otherwise).

Repos live in memory: a list of commits per repo, each a full ``{path: git blob oid}`` snapshot, so
any earlier commit stays loadable by its oid. File contents are stored on disk by oid. Every request
body is also appended to ``requests.log`` so tests can search all uploaded bytes, and commits to
the repos in ``fail_commits_to`` fail with a 500, to test a push that breaks halfway.
Single-process, loopback only, no LFS or Xet: the clients send everything inline when told
"regular", and download over plain HTTP when no Xet headers come back.
"""

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
ACTIONS = ("revision", "tree", "preupload", "commit", "paths-info")


def git_blob_oid(data: bytes) -> str:
    """The id git (and the Hub) give a file: sha1 of ``blob <size>\\0<data>``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class User:
    name: str
    orgs: list[str] = field(default_factory=list)
    role: str = "write"  # the token's role: "write" or "read"


@dataclass
class Commit:
    oid: str
    message: str
    files: dict[str, str]  # path -> blob oid
    date: str


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    sdk: str | None = None
    commits: list[Commit] = field(default_factory=list)  # oldest first; the last is "main"

    def resolve(self, revision: str) -> Commit | None:
        if revision == "main":
            return self.commits[-1] if self.commits else None
        return next((c for c in self.commits if c.oid == revision), None)


class HubError(Exception):
    def __init__(self, status: int, code: str | None, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeHub:
    """The server's state, and the server itself once ``start()`` is called."""

    def __init__(self, root: Path, users: dict[str, User]):
        self.root = Path(root)
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        self.users = users  # token -> user
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.unrouted: list[str] = []  # requests this server has no route for: the clients wanted more
        self.fail_commits_to: set[str] = set()  # repo ids
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.endpoint

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def request_log(self) -> Path:
        return self.root / "requests.log"

    def writes(self) -> list[tuple[str, str]]:
        """The requests that could change a repo (anything but reads and the token check)."""
        return [(m, p) for m, p in self.requests if m == "POST" and "/validate-yaml" not in p]

    def file(self, repo_id: str, path: str, revision: str = "main", repo_type: str = "model") -> bytes:
        commit = self.repos[(repo_type, repo_id)].resolve(revision)
        return (self.root / "blobs" / commit.files[path]).read_bytes()

    # --- state -----------------------------------------------------------------------------------
    def user(self, token: str | None) -> User | None:
        return self.users.get(token) if token else None

    def repo(self, repo_type: str, repo_id: str, token: str | None, write: bool = False) -> Repo:
        repo, user = self.repos.get((repo_type, repo_id)), self.user(token)
        namespace = repo_id.split("/")[0]
        can_read = repo is not None and (not repo.private or (user and namespace in (user.name, *user.orgs)))
        if not can_read:
            raise HubError(401, "RepoNotFound", "Repository not found")
        if write:
            self.check_write(user, namespace)
        return repo

    def check_write(self, user: User | None, namespace: str) -> None:
        if user is None:
            raise HubError(401, None, "Invalid credentials in Authorization header")
        if user.role != "write" or namespace not in (user.name, *user.orgs):
            raise HubError(403, None, f"You don't have the rights to write to {namespace}")

    def store(self, data: bytes) -> str:
        oid = git_blob_oid(data)
        path = self.root / "blobs" / oid
        if not path.exists():
            path.write_bytes(data)
        return oid

    def commit(self, repo: Repo, lines: list[dict], revision: str) -> Commit:
        if revision != "main":
            raise HubError(400, None, "this test server commits to main only")
        files = dict(repo.commits[-1].files) if repo.commits else {}
        header = next(line["value"] for line in lines if line["key"] == "header")
        for line in lines:
            key, value = line["key"], line.get("value", {})
            if key == "file":
                content = value["content"]
                data = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                files[value["path"]] = self.store(data)
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                files = {p: o for p, o in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
            elif key != "header":
                raise HubError(400, None, f"unsupported commit operation {key!r} (this server has no LFS)")
        parent = repo.commits[-1].oid if repo.commits else ""
        oid = hashlib.sha1(json.dumps([parent, header, files], sort_keys=True).encode()).hexdigest()
        commit = Commit(oid, header.get("summary", ""), files, time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()))
        repo.commits.append(commit)
        return commit


def _card_data(readme: bytes | None) -> dict[str, Any] | None:
    if readme is None:
        return None
    from huggingface_hub.repocard import RepoCard

    return RepoCard(readme.decode("utf-8"), ignore_metadata_errors=True).data.to_dict()


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures, not traffic
        pass

    # --- plumbing --------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        hub = self.hub
        with hub.lock:
            hub.requests.append((method, url.path))
            if body:
                with hub.request_log.open("ab") as log:
                    log.write(body + b"\n")
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() or None
            try:
                status, headers, payload = self._route(method, url.path, parse_qs(url.query), body, token)
            except HubError as error:
                headers = {"X-Error-Message": error.message}
                if error.code:
                    headers["X-Error-Code"] = error.code
                status, payload = error.status, {"error": error.message}
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        if not isinstance(payload, bytes):
            self.send_header("Content-Type", "application/json")
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    # --- routes ----------------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict, body: bytes, token: str | None):
        hub = self.hub
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "whoami-v2"]:
            user = hub.user(token)
            if user is None:
                raise HubError(401, None, "Invalid credentials in Authorization header")
            orgs = [{"name": org, "roleInOrg": "write"} for org in user.orgs]
            return 200, {}, {"type": "user", "name": user.name, "orgs": orgs,
                             "auth": {"type": "access_token", "accessToken": {"role": user.role}}}  # fmt: skip
        if parts[:2] == ["api", "agent-harnesses"]:  # the clients' user-agent detection: no harnesses known
            return 200, {}, {"standardEnvVars": [], "harnesses": {}}
        if parts[:3] == ["api", "repos", "create"] and method == "POST":
            return self._create_repo(json.loads(body), token)
        if parts[:2] == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml(json.loads(body))
        if parts[0] == "api" and len(parts) >= 4 and parts[1] in REPO_TYPES:
            return self._api(method, REPO_TYPES[parts[1]], parts[2:], query, body, token)
        repo_type = "model"
        if parts[0] in REPO_TYPES and parts[0] != "models":
            repo_type, parts = REPO_TYPES[parts[0]], parts[1:]
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            repo_id, revision, file_path = "/".join(parts[:2]), unquote(parts[3]), unquote("/".join(parts[4:]))
            return self._resolve(repo_type, repo_id, revision, file_path, token)
        self.hub.unrouted.append(f"{method} {path}")
        raise HubError(404, None, f"this test server has no route for {method} {path}")

    def _create_repo(self, payload: dict, token: str | None):
        hub, repo_type = self.hub, payload.get("type") or "model"
        namespace = payload.get("organization") or (hub.user(token).name if hub.user(token) else None)
        hub.check_write(hub.user(token), namespace or "")
        repo_id = f"{namespace}/{payload['name']}"
        url = hub.endpoint + ("" if repo_type == "model" else f"/{repo_type}s") + f"/{repo_id}"
        if (repo_type, repo_id) in hub.repos:
            return 409, {}, {"error": "You already created this repo", "url": url}
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        hub.repos[(repo_type, repo_id)] = Repo(repo_type, repo_id, private, payload.get("sdk"))
        return 200, {}, {"url": url, "name": repo_id, "id": repo_id}

    def _validate_yaml(self, payload: dict):
        # The Hub checks the card's metadata before a commit; here huggingface_hub's own parser does,
        # strictly: a malformed model-index or eval result raises.
        from huggingface_hub.repocard import RepoCard

        try:
            RepoCard(payload["content"], ignore_metadata_errors=False)
        except Exception as error:  # any parse failure is a 400 with the reason, like the Hub's
            return 400, {}, {"errors": [{"message": str(error)}], "warnings": []}
        return 200, {}, {"errors": [], "warnings": []}

    def _api(self, method: str, repo_type: str, parts: list[str], query: dict, body: bytes, token: str | None):
        hub = self.hub
        action_at = next((i for i, p in enumerate(parts) if p in ACTIONS), len(parts))
        repo_id, action = "/".join(parts[:action_at]), parts[action_at] if action_at < len(parts) else None
        revision = unquote(parts[action_at + 1]) if action_at + 1 < len(parts) else "main"
        sub_path = unquote("/".join(parts[action_at + 2 :])).strip("/")
        if action in ("preupload", "commit"):
            repo = hub.repo(repo_type, repo_id, token, write=True)
            if action == "preupload":
                current = repo.resolve("main").files if repo.commits else {}
                files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                          "oid": current.get(f["path"])} for f in json.loads(body)["files"]]  # fmt: skip
                return 200, {}, {"files": files, "commitOid": repo.commits[-1].oid if repo.commits else None}
            if repo_id in hub.fail_commits_to:
                raise HubError(500, None, "Internal Error (simulated by the test server)")
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            commit = hub.commit(repo, lines, revision)
            url = f"{hub.endpoint}/{repo_id}/commit/{commit.oid}"
            return 200, {}, {"commitUrl": url, "commitOid": commit.oid, "pullRequestUrl": None, "success": True}
        repo = hub.repo(repo_type, repo_id, token)
        commit = repo.resolve(revision)
        if commit is None and (revision != "main" or action in ("tree", "paths-info")):
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        files = commit.files if commit else {}
        if action in (None, "revision"):
            return 200, {}, self._info(repo, commit)
        if action == "tree":
            recursive = query.get("recursive", ["false"])[0].lower() in ("true", "1")
            entries = self._entries(files, sub_path, recursive)
            if entries is None:
                raise HubError(404, "EntryNotFound", f"{sub_path} does not exist on {revision}")
            return 200, {}, entries
        if action == "paths-info" and method == "POST":
            form = parse_qs(body.decode())
            wanted = form.get("paths", []) or json.loads(body or b"{}").get("paths", [])
            return 200, {}, [e for p in wanted for e in self._entry(files, p.strip("/"))]
        hub.unrouted.append(f"{method} {action}")
        raise HubError(404, None, f"this test server has no route for {method} {action}")

    def _file_entry(self, files: dict[str, str], path: str) -> dict:
        size = (self.hub.root / "blobs" / files[path]).stat().st_size
        return {"type": "file", "oid": files[path], "size": size, "path": path}

    def _entry(self, files: dict[str, str], path: str) -> list[dict]:
        if path in files:
            return [self._file_entry(files, path)]
        if any(p.startswith(path + "/") for p in files):
            return [{"type": "directory", "oid": git_blob_oid(path.encode()), "size": 0, "path": path}]
        return []

    def _entries(self, files: dict[str, str], folder: str, recursive: bool) -> list[dict] | None:
        prefix = folder + "/" if folder else ""
        below = sorted(p for p in files if p.startswith(prefix))
        if folder and not below:
            return None
        entries, folders = [], set()
        for path in below:
            rest = path[len(prefix) :].split("/")
            for depth in range(1, len(rest) if recursive else min(2, len(rest))):
                folders.add(prefix + "/".join(rest[:depth]))
            if recursive or len(rest) == 1:
                entries.append(self._file_entry(files, path))
        dirs = [{"type": "directory", "oid": git_blob_oid(f.encode()), "size": 0, "path": f} for f in sorted(folders)]
        return dirs + entries

    def _info(self, repo: Repo, commit: Commit | None) -> dict:
        files = commit.files if commit else {}
        readme = (self.hub.root / "blobs" / files["README.md"]).read_bytes() if "README.md" in files else None
        card = _card_data(readme) or {}
        info = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24], "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0], "sha": commit.oid if commit else None, "private": repo.private,
            "gated": False, "disabled": False, "downloads": 0, "likes": 0, "tags": card.get("tags", []),
            "pipeline_tag": card.get("pipeline_tag"), "library_name": card.get("library_name"),
            "lastModified": commit.date if commit else None, "createdAt": repo.commits[0].date if commit else None,
            "cardData": card or None,
            "siblings": [{"rfilename": p, "size": (self.hub.root / "blobs" / o).stat().st_size}
                         for p, o in sorted(files.items())],
        }  # fmt: skip
        if repo.repo_type == "space":
            info["sdk"] = repo.sdk
        return info

    def _resolve(self, repo_type: str, repo_id: str, revision: str, file_path: str, token: str | None):
        repo = self.hub.repo(repo_type, repo_id, token)
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        if file_path not in commit.files:
            raise HubError(404, "EntryNotFound", f"{file_path} does not exist on {revision}")
        oid = commit.files[file_path]
        data = (self.hub.root / "blobs" / oid).read_bytes()
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{oid}"', "Content-Type": "application/octet-stream"}
        return 200, headers, data


if __name__ == "__main__":  # a server to poke at by hand: python tests/hub_server.py /tmp/hub TOKEN USER
    import sys

    hub = FakeHub(Path(sys.argv[1]), {sys.argv[2]: User(sys.argv[3])})
    print(f"HF_ENDPOINT={hub.start()} HF_TOKEN={sys.argv[2]}", flush=True)
    threading.Event().wait()
