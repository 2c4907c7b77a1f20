"""A small Hugging Face hub-compatible HTTP server for tests (127.0.0.1 only, in-memory).

It implements just what ``huggingface_hub`` needs to download and upload model files, so the
library's real download, cache and upload code runs against it:

* ``HEAD|GET /{org}/{name}/resolve/{revision}/{path}`` with ``X-Repo-Commit``, ``ETag`` and
  ``Content-Length``; 404 with ``X-Error-Code`` ``RepoNotFound`` / ``RevisionNotFound`` / ``EntryNotFound``.
* ``POST /api/repos/create``, ``POST /api/models/{repo}/preupload/{rev}`` (every file "regular"),
  ``POST /api/models/{repo}/commit/{rev}`` (NDJSON with base64 file contents).

It can be told to misbehave on downloads (``hub.state.fault``): ``"500"`` answers every request
with an internal server error, ``"timeout"`` waits ``fault_delay`` seconds before answering,
``"reset"`` closes the connection without an answer, ``"truncate"`` sends half of each file's body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class _Repo:
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)


class HubState:
    def __init__(self) -> None:
        self.repos: dict[str, _Repo] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self._counter = 0
        #: None, "500", "timeout", "reset" or "truncate" (downloads only, see the module docstring)
        self.fault: str | None = None
        self.fault_delay = 3.0

    def create_repo(self, repo_id: str) -> None:
        with self.lock:
            if repo_id not in self.repos:
                repo = _Repo()
                sha = self._new_sha(repo_id)
                repo.commits[sha] = {}
                repo.branches["main"] = sha
                self.repos[repo_id] = repo

    def _new_sha(self, seed: str) -> str:
        self._counter += 1
        return hashlib.sha1(f"{seed}-{self._counter}".encode()).hexdigest()

    def commit(self, repo_id: str, revision: str, files: dict[str, bytes]) -> str:
        with self.lock:
            repo = self.repos[repo_id]
            parent = repo.branches.get(revision, repo.branches["main"])
            tree = dict(repo.commits[parent])
            tree.update(files)
            sha = self._new_sha(repo_id)
            repo.commits[sha] = tree
            repo.branches[revision] = sha
            return sha

    def resolve(self, repo_id: str, revision: str) -> str | None:
        repo = self.repos[repo_id]
        if revision in repo.branches:
            return repo.branches[revision]
        if revision in repo.commits:
            return revision
        return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "TestHub/1.0"
    state: HubState  # set on the subclass

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    # -------------------------------------------------------------------------------- helpers
    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, head: bool = False) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            if getattr(self, "_truncated", False) and status == 200:
                self.wfile.write(body[: len(body) // 2])  # announce the whole file, send half, hang up
                self.close_connection = True
                return
            self.wfile.write(body)

    def _json(self, status: int, data: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(self, status: int, code: str, message: str, head: bool = False, extra: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": message}).encode()
        headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json", **(extra or {})}
        self._send(status, body, headers, head=head)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -------------------------------------------------------------------------------- download
    def _resolve_file(self, head: bool) -> None:
        parts = [unquote(p) for p in urlsplit(self.path).path.split("/")[1:]]
        # /{org}/{name}/resolve/{revision}/{path...}   (also /models/{org}/{name}/resolve/...)
        if parts and parts[0] == "models":
            parts = parts[1:]
        if len(parts) < 5 or parts[2] != "resolve":
            self._error(404, "EntryNotFound", "bad resolve url", head)
            return
        repo_id, revision, filename = f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
        with self.state.lock:
            if repo_id not in self.state.repos:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found", head)
                return
            sha = self.state.resolve(repo_id, revision)
            if sha is None:
                self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
                return
            tree = self.state.repos[repo_id].commits[sha]
            if filename not in tree:
                self._error(404, "EntryNotFound", f"{filename} does not exist at {sha}", head, {"X-Repo-Commit": sha})
                return
            data = tree[filename]
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        self._send(200, data, {"X-Repo-Commit": sha, "ETag": etag, "Content-Type": "application/octet-stream"}, head)

    def _misbehave(self, head: bool) -> bool:
        """Apply ``state.fault``; True when the request has been dealt with."""
        fault = self.state.fault
        if fault == "500":
            self._error(500, "InternalError", "the test hub was told to fail", head)
            return True
        if fault == "timeout":
            import time

            time.sleep(self.state.fault_delay)
            return False
        if fault == "reset":
            import socket

            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return True
        return False

    def do_HEAD(self) -> None:  # noqa: N802 (http.server naming)
        self.state.requests.append(("HEAD", self.path))
        if not self._misbehave(head=True):
            self._resolve_file(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self.state.requests.append(("GET", self.path))
        if self._misbehave(head=False):
            return
        if self.state.fault == "truncate":
            self._truncated = True
        self._resolve_file(head=False)

    # -------------------------------------------------------------------------------- upload
    def _validate_card(self, content: str) -> None:
        """Like the hub: the YAML front matter of a model card must parse to a mapping."""
        import yaml

        match = re.match(r"^---\n(.*?)\n---", content, re.S)
        try:
            meta = yaml.safe_load(match.group(1)) if match else {}
        except yaml.YAMLError as exc:
            self._json(400, {"errors": [{"message": f"invalid YAML: {exc}"}], "warnings": []})
            return
        if not isinstance(meta, dict):
            self._json(400, {"errors": [{"message": "metadata must be a mapping"}], "warnings": []})
            return
        self._json(200, {"errors": [], "warnings": []})

    def do_POST(self) -> None:  # noqa: N802
        self.state.requests.append(("POST", self.path))
        path = urlsplit(self.path).path
        body = self._body()
        if path == "/api/repos/create":
            payload = json.loads(body or b"{}")
            repo_id = f"{payload.get('organization') or 'user'}/{payload['name']}"
            self.state.create_repo(repo_id)
            self._json(200, {"url": f"http://{self.headers['Host']}/{repo_id}", "name": repo_id, "id": repo_id})
            return
        if path == "/api/validate-yaml":  # README.md front matter check before a commit that adds a card
            self._validate_card(json.loads(body or b"{}").get("content", ""))
            return
        parts = [unquote(p) for p in path.split("/")[1:]]
        # /api/models/{org}/{name}/{preupload|commit}/{revision}
        if len(parts) >= 6 and parts[0] == "api" and parts[1] == "models" and parts[4] in ("preupload", "commit"):
            repo_id, action, revision = f"{parts[2]}/{parts[3]}", parts[4], "/".join(parts[5:])
            if repo_id not in self.state.repos:
                self._error(404, "RepoNotFound", f"Repository {repo_id} not found")
                return
            if action == "preupload":
                files = json.loads(body).get("files", [])
                self._json(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                           for f in files]})
                return
            files: dict[str, bytes] = {}
            for line in body.splitlines():
                if not line.strip():
                    continue
                item = json.loads(line)
                if item.get("key") == "file":
                    value = item["value"]
                    files[value["path"]] = base64.b64decode(value["content"])
                elif item.get("key") in ("lfsFile", "deletedFile", "deletedFolder"):
                    self._error(400, "BadRequest", f"test hub does not support {item['key']}")
                    return
            sha = self.state.commit(repo_id, revision, files)
            host = self.headers["Host"]
            self._json(200, {"commitUrl": f"http://{host}/{repo_id}/commit/{sha}", "commitOid": sha,
                             "pullRequestUrl": None, "success": True})
            return
        self._error(404, "EntryNotFound", f"test hub has no endpoint {path}")


class LocalHub:
    """Start with ``LocalHub()`` (a daemon thread on 127.0.0.1, free port); ``url``; ``close()``."""

    def __init__(self) -> None:
        self.state = HubState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
