"""The aiohttp application: one event loop for the daemon API, signed URLs and websockets."""

from __future__ import annotations

from aiohttp import web

from local.wings_sim import api, backups, files, websocket
from local.wings_sim.daemon import Daemon

S = "/api/servers/{server}"


def build_app(daemon: Daemon, token_check_seconds: float = 30.0) -> web.Application:
    upload_limit = daemon.config.upload_limit_mb * 1024 * 1024
    app = web.Application(middlewares=[api.wings_middleware], client_max_size=upload_limit + 1024 * 1024)
    app[api.DAEMON] = daemon
    app[files.PULLS] = {}
    app[websocket.TOKEN_CHECK] = token_check_seconds
    app.router.add_routes(
        [
            web.get("/api/system", api.get_system),
            web.post("/api/update", api.post_update),
            web.post("/api/deauthorize-user", api.post_deauthorize_user),
            web.get("/api/servers", api.list_servers),
            web.post("/api/servers", api.create_server),
            web.get(S, api.get_server),
            web.delete(S, api.delete_server),
            web.get(S + "/logs", api.get_logs),
            web.post(S + "/power", api.post_power),
            web.post(S + "/commands", api.post_commands),
            web.post(S + "/install", api.post_install),
            web.post(S + "/reinstall", api.post_reinstall),
            web.post(S + "/sync", api.post_sync),
            web.post(S + "/ws/deny", api.post_ws_deny),
            web.get(S + "/ws", websocket.websocket),
            web.get(S + "/files/contents", files.get_contents),
            web.get(S + "/files/list-directory", files.list_directory),
            web.put(S + "/files/rename", files.rename),
            web.post(S + "/files/copy", files.copy),
            web.post(S + "/files/write", files.write),
            web.post(S + "/files/create-directory", files.create_directory),
            web.post(S + "/files/delete", files.delete),
            web.post(S + "/files/compress", files.compress),
            web.post(S + "/files/decompress", files.decompress),
            web.post(S + "/files/chmod", files.chmod),
            web.get(S + "/files/pull", files.list_pulls),
            web.post(S + "/files/pull", files.post_pull),
            web.delete(S + "/files/pull/{download}", files.delete_pull),
            web.post(S + "/backup", backups.post_backup),
            web.post(S + "/backup/{backup}/restore", backups.restore_backup),
            web.delete(S + "/backup/{backup}", backups.delete_backup),
            web.get("/download/file", api.download_file),
            web.get("/download/backup", api.download_backup),
            web.post("/upload/file", api.upload_file),
        ]
    )
    return app
