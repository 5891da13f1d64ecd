"""The baseline: a bare bottle JSON route on gevent's WSGIServer, with TCP_NODELAY like ours.

python -m bench.hello_server PORT
"""
from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402
import sys  # noqa: E402

import bottle  # noqa: E402
from gevent.pywsgi import WSGIHandler, WSGIServer  # noqa: E402


class NoDelayHandler(WSGIHandler):
    def handle(self):
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


app = bottle.Bottle()


@app.get('/hello')
def hello():
    return {'hello': 'world'}


if __name__ == '__main__':
    WSGIServer(('127.0.0.1', int(sys.argv[1])), app, handler_class=NoDelayHandler, log=None).serve_forever()
