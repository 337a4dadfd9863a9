"""A misbehaving OpenAI-compatible server for scripts/llm-failure-check.sh.

MODE: hang (accepts, never answers) | 401 | 500 (multi-line message) | garbage (HTML, HTTP 200)
| nojson (a chat reply whose text holds no JSON). Usage: fake-llm-server.py MODE PORT
"""
import http.server, json, socket, sys, time, threading
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "hang":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16)
    conns = []
    while True:
        c, _ = s.accept(); conns.append(c)  # read nothing, answer nothing
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if mode == "401": code, body = 401, json.dumps({"error": {"message": "Incorrect API key provided: sk-****", "type": "invalid_request_error"}})
        elif mode == "500": code, body = 500, json.dumps({"error": {"message": "llama_decode returned -3\nKV cache full", "type": "server_error"}})
        elif mode == "garbage": code, body = 200, "<html><body>502 Bad Gateway</body></html>"
        else: code, body = 200, json.dumps({"choices": [{"message": {"role": "assistant", "content": "Sure! Here are some ideas."}, "finish_reason": "stop"}]})
        b = body.encode(); self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
