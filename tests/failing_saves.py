"""A contents manager whose disk refuses writes to files named ``*.nosave.*`` (a failing save, on demand)."""

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager


class FailingSaves(AsyncLargeFileManager):
    async def save(self, model, path=""):
        if ".nosave." in path and model.get("type") != "directory":
            raise OSError(28, "No space left on device")
        return await super().save(model, path)
