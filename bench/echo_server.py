"""The baseline for WebSockets: a bare gevent-websocket echo server (and a /hello route).

python -m bench.echo_server PORT
"""
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from gevent.pywsgi import WSGIServer  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def app(environ, start_response):
    ws = environ.get('wsgi.websocket')
    if ws is None:
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'hello']
    while True:
        message = ws.receive()
        if message is None:
            return []
        ws.send(message)


if __name__ == '__main__':
    WSGIServer(('127.0.0.1', int(sys.argv[1])), app, handler_class=WebSocketHandler, log=None).serve_forever()
