"""`fupin-import FILE`: upload an intake file (CSV/XLSX) through the gateway and follow it to the end."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from registry.client import DEV_CLIENT_ID, DEV_CLIENT_SECRET, RegistryClient

console = Console()


async def run_import(file: Path, *, gateway: str, client_id: str, client_secret: str, token: str | None,
                     divisions: Path | None) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as http:
        registry = await RegistryClient.connect(http, token=token, client_id=client_id, client_secret=client_secret)
        if divisions is not None:
            await registry.put_divisions(json.loads(divisions.read_text()))  # noqa: ASYNC240 (a small local file)
        accepted = await registry.upload(file)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.fields[households]} households"), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task(f"importing {file.name}", total=None, households=0)

            def show(job: dict[str, Any]) -> None:
                progress.update(task, total=job["rows_total"], completed=job["rows_done"],
                                households=job["households_created"])

            return await registry.wait_import(accepted["import_id"], on_progress=show)


def _report(job: dict[str, Any]) -> None:
    console.print(f"import {job['import_id']}: [bold]{job['state']}[/bold] — {job['households_created']} households "
                  f"created, {job['households_rejected']} rejected, {job['error_count']} row errors")
    if job["errors"]:
        table = Table("row", "field", "code", "message", title="first row errors")
        for e in job["errors"][:30]:
            table.add_row(str(e["row"]), e["field"], e["code"], e["message"])
        console.print(table)
    if job.get("failure"):
        console.print(f"[red]failure: {job['failure']}")


def main(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or XLSX, one row per member"),
         gateway: str = typer.Option("http://127.0.0.1:8000", envvar="FUPIN_GATEWAY_URL"),
         client_id: str = typer.Option(DEV_CLIENT_ID, "--client-id"),
         client_secret: str = typer.Option(DEV_CLIENT_SECRET, "--client-secret", envvar="FUPIN_CLIENT_SECRET"),
         token: str | None = typer.Option(None, help="use this bearer token instead of asking the gateway"),
         divisions: Path | None = typer.Option(None, help="a divisions JSON (from registry.synthetic) to PUT first"),
         ) -> None:
    job = asyncio.run(run_import(file, gateway=gateway, client_id=client_id, client_secret=client_secret,
                                 token=token, divisions=divisions))
    _report(job)
    raise typer.Exit(0 if job["state"] == "done" else 1)


def app() -> None:
    typer.run(main)
