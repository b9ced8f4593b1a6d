"""GET /openapi.json and GET /docs from the built `crud-api serve`, over real HTTP:
- the document passes openapi-spec-validator, names this server (as the request reached it) in
  `servers`, and carries nothing of API Gateway's (extensions, CloudFormation intrinsics);
- without authentication it requires nothing; with bearer tokens it declares a bearer scheme
  (Swagger UI's Authorize) and requires it, /health excepted; the document and the page
  themselves stay public;
- the page and every file it references are served with their own types, strong ETags,
  no-cache, and 304 on If-None-Match;
- the "listening" line names the page, and on a terminal a sentence on stderr says it too.
"""

import json
import os
import pty
import re
import select
import subprocess
import tempfile
import unittest
import urllib.request
from http.client import HTTPConnection

from openapi_spec_validator import validate

BIN = os.environ.get("CRUD_API_BIN", "")


class Serve:
    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen(
            [BIN, "serve", "--host", "127.0.0.1", "--port", "0",
             "--db", os.path.join(self.dir.name, "items.db"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("message") == "listening":
                self.listening = entry
                self.port = entry["port"]
                return
        raise RuntimeError("crud-api serve exited before listening: " + self.proc.stderr.read())

    def request(self, method, path, headers=None):
        conn = HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def close(self):
        self.proc.terminate()
        _, self.stderr = self.proc.communicate(timeout=20)
        self.dir.cleanup()


def keys(node):
    if isinstance(node, dict):
        for k, v in node.items():
            yield k
            yield from keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from keys(v)


class OpenApiWithoutAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.serve = Serve()

    @classmethod
    def tearDownClass(cls):
        cls.serve.close()

    def document(self, headers=None):
        status, hdrs, body = self.serve.request("GET", "/openapi.json", headers)
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("application/json"), hdrs["content-type"])
        return json.loads(body)

    def test_the_document_passes_openapi_spec_validator(self):
        validate(self.document())

    def test_servers_is_this_server_as_the_request_reached_it(self):
        doc = self.document()
        self.assertEqual([s["url"] for s in doc["servers"]], [f"http://127.0.0.1:{self.serve.port}"])
        doc = self.document({"Host": f"localhost:{self.serve.port}"})
        self.assertEqual(doc["servers"][0]["url"], f"http://localhost:{self.serve.port}")

    def test_a_host_that_is_not_a_plain_authority_gives_a_relative_server(self):
        doc = self.document({"Host": "evil.example/phish?x="})
        self.assertEqual(doc["servers"][0]["url"], "/")

    def test_nothing_of_api_gateway_is_left(self):
        doc = self.document()
        names = set(keys(doc))
        self.assertFalse({k for k in names if k.startswith("x-amazon-apigateway")})
        self.assertFalse({k for k in names if k.startswith("Fn::") or k == "Ref"})
        self.assertNotIn("/{proxy+}", doc["paths"])
        self.assertIn("/items/{id}/restore", doc["paths"])

    def test_without_authentication_nothing_is_required(self):
        doc = self.document()
        self.assertNotIn("security", doc)
        self.assertNotIn("securitySchemes", doc.get("components", {}))

    def test_request_bodies_have_examples(self):
        schemas = self.document()["components"]["schemas"]
        self.assertEqual(schemas["CreateItemRequest"]["example"]["name"], "Sample Item")
        self.assertIn("example", schemas["Item"])

    def test_the_page_and_every_file_it_references_are_served(self):
        status, hdrs, body = self.serve.request("GET", "/docs")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["content-type"], "text/html; charset=utf-8")
        refs = re.findall(r'(?:src|href)="(/docs/[^"]+)"', body.decode())
        self.assertGreaterEqual(len(refs), 4, refs)
        types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".png": "image/png"}
        for ref in ["/docs", *refs]:
            with self.subTest(ref=ref):
                status, hdrs, body = self.serve.request("GET", ref)
                self.assertEqual(status, 200)
                self.assertGreater(len(body), 0)
                ext = os.path.splitext(ref)[1]
                if ext:
                    self.assertEqual(hdrs["content-type"], types[ext])
                self.assertRegex(hdrs["etag"], r'^"[0-9a-f]{32}"$')
                self.assertEqual(hdrs["cache-control"], "no-cache")
                status, again, body = self.serve.request("GET", ref, {"If-None-Match": hdrs["etag"]})
                self.assertEqual(status, 304)
                self.assertEqual(body, b"")
                self.assertEqual(again["etag"], hdrs["etag"])
                status, _, _ = self.serve.request("GET", ref, {"If-None-Match": '"other"'})
                self.assertEqual(status, 200)

    def test_unknown_files_and_other_methods_are_refused(self):
        self.assertEqual(self.serve.request("GET", "/docs/secret.txt")[0], 404)
        self.assertEqual(self.serve.request("GET", "/docs/openapi.json")[0], 404)
        status, hdrs, _ = self.serve.request("POST", "/docs")
        self.assertEqual(status, 405)
        self.assertEqual(hdrs["allow"], "GET, HEAD")
        status, hdrs, body = self.serve.request("HEAD", "/openapi.json")
        self.assertEqual((status, body), (200, b""))

    def test_the_listening_line_names_the_docs_url(self):
        self.assertEqual(self.serve.listening["docs"], f"http://127.0.0.1:{self.serve.port}/docs")


class ListeningOnATerminal(unittest.TestCase):
    def test_a_terminal_gets_a_sentence_with_the_docs_url(self):
        primary, secondary = pty.openpty()
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.Popen(
                [BIN, "serve", "--host", "127.0.0.1", "--port", "0",
                 "--db", os.path.join(tmp, "items.db")],
                stdout=subprocess.PIPE, stderr=secondary, text=True)
            os.close(secondary)
            try:
                port = None
                for line in proc.stdout:
                    if '"listening"' in line:
                        port = json.loads(line)["port"]
                        break
                self.assertIsNotNone(port)
                said = b""
                while b"\n" not in said and select.select([primary], [], [], 10)[0]:
                    said += os.read(primary, 4096)
                url = f"http://127.0.0.1:{port}"
                self.assertEqual(said.decode().strip(),
                                 f"crud-api: serving on {url} \u2014 API docs at {url}/docs")
            finally:
                proc.terminate()
                proc.communicate(timeout=20)
                os.close(primary)

    def test_without_a_terminal_stderr_stays_quiet(self):
        serve = Serve()
        serve.close()
        self.assertEqual(serve.stderr, "")


class OpenApiWithBearerTokens(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.serve = Serve("--jwt-secret", "openapi-test-secret-of-32-bytes!", "--jwt-issuer", "t")

    @classmethod
    def tearDownClass(cls):
        cls.serve.close()

    def test_the_document_and_the_page_are_public(self):
        self.assertEqual(self.serve.request("GET", "/openapi.json")[0], 200)
        self.assertEqual(self.serve.request("GET", "/docs")[0], 200)
        self.assertEqual(self.serve.request("GET", "/docs/swagger-ui.css")[0], 200)
        self.assertEqual(self.serve.request("GET", "/items")[0], 401)

    def test_a_bearer_scheme_is_declared_and_required(self):
        _, _, body = self.serve.request("GET", "/openapi.json")
        doc = json.loads(body)
        validate(doc)
        scheme = doc["components"]["securitySchemes"]["bearerAuth"]
        self.assertEqual((scheme["type"], scheme["scheme"]), ("http", "bearer"))
        self.assertEqual(doc["security"], [{"bearerAuth": []}])
        self.assertEqual(doc["paths"]["/health"]["get"]["security"], [])
        self.assertNotIn("security", doc["paths"]["/metrics"]["get"])


if __name__ == "__main__":
    unittest.main()
