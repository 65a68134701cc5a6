"""The container recipe (Dockerfile, fly.toml) and the command line the image runs.

There is no Docker daemon here: the Dockerfile is parsed, and its CMD is run as is, with the
environment its ENV lines set (only HOST and PORT moved to a free loopback port), against the full
oc.db and an inspect file made by the same `datasette inspect` command as the image build.
"""

import json
import re
import shlex
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT

from bench.harness import Server, fetch

SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE", re.I)


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    instructions, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, arguments = current.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def parse_env(arguments: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(arguments))


@pytest.fixture(scope="module")
def dockerfile():
    instructions = dockerfile_instructions((ROOT / "Dockerfile").read_text())
    args = {}
    stages = []
    for keyword, arguments in instructions:
        if keyword == "ARG" and "=" in arguments:
            name, value = arguments.split("=", 1)
            args[name] = value
        if keyword == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], arguments.split()[0])
            stages.append({"image": image, "instructions": []})
        elif stages:
            stages[-1]["instructions"].append((keyword, arguments))
    return {"args": args, "stages": stages}


@pytest.fixture(scope="module")
def fly():
    return tomllib.loads((ROOT / "fly.toml").read_text())


def final_stage(dockerfile):
    return dockerfile["stages"][-1]


def stage_env(stage) -> dict:
    env = {}
    for keyword, arguments in stage["instructions"]:
        if keyword == "ENV":
            env.update(parse_env(arguments))
    return env


def cmd(stage) -> list[str]:
    commands = [json.loads(arguments) for keyword, arguments in stage["instructions"] if keyword == "CMD"]
    assert commands, "pas de CMD (forme exec) dans l'image finale"
    return commands[-1]


def test_base_images_are_pinned(dockerfile):
    for stage in dockerfile["stages"]:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", stage["image"]), stage["image"]


def test_image_builds_or_takes_the_database_then_inspects_it(dockerfile):
    build = "\n".join(a for k, a in dockerfile["stages"][0]["instructions"] if k == "RUN")
    assert "make install" in build
    assert "build) make build" in build and "artefact)" in build
    # the compressed copy offered beside /oc.db is made from the very oc.db of the image, in both modes
    assert "oc compress --db oc.db" in build.split("artefact)")[1].split(";;")[0]
    assert "oc compress --db $(DB)" in (ROOT / "Makefile").read_text().split("\nbuild:")[1].split("\n\n")[0]
    assert dockerfile["stages"][0]["instructions"][0] == ("ARG", "OC_DB_SOURCE=build")
    inspect_file = stage_env(final_stage(dockerfile))["INSPECT_FILE"]
    assert f"datasette inspect oc.db --inspect-file {inspect_file}" in build


def test_image_runs_serve_script_on_fly_port(dockerfile, fly):
    stage = final_stage(dockerfile)
    env = stage_env(stage)
    assert cmd(stage) == ["scripts/serve.sh", "oc.db"]
    assert env["HOST"] == "0.0.0.0"
    assert int(env["PORT"]) == fly["http_service"]["internal_port"] == 8080
    users = [a for k, a in stage["instructions"] if k == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_nothing_secret_in_the_image(dockerfile):
    text = (ROOT / "Dockerfile").read_text()
    for stage in dockerfile["stages"]:
        for name, value in stage_env(stage).items():
            assert not SECRET_WORDS.search(name), name
    for name in dockerfile["args"]:
        assert not SECRET_WORDS.search(name), name
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "DATASETTE_SECRET" not in code and "--secret" not in code
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "node_modules", ".cache"} <= set(ignored)


def test_fly_toml_current_format(fly):
    assert fly["app"] and fly["primary_region"]
    service = fly["http_service"]
    assert service["force_https"] is True
    assert service["min_machines_running"] >= 2
    assert service["auto_stop_machines"] in ("stop", "suspend", "off")
    checks = service["checks"]
    assert checks and all(c["method"] == "GET" and c["path"].startswith("/oc/") for c in checks)
    assert fly["vm"][0]["size"] and fly["vm"][0]["memory"]
    assert fly["build"]["dockerfile"] == "Dockerfile"
    assert not any(SECRET_WORDS.search(name) for name in fly.get("env", {}))
    assert "services" not in fly  # the older [[services]] format is not used


def test_container_command_line_serves_the_site(full_db, dockerfile, fly, tmp_path):
    stage = final_stage(dockerfile)
    env = stage_env(stage)
    inspect_file = tmp_path / env["INSPECT_FILE"]
    subprocess.run([sys.executable, "-m", "datasette", "inspect", "oc.db", "--inspect-file", str(inspect_file)],
                   cwd=ROOT, check=True)
    env["INSPECT_FILE"] = str(inspect_file)
    health = fly["http_service"]["checks"][0]["path"]
    with Server(full_db, command=[str(ROOT / word) if word.startswith("scripts/") else word for word in cmd(stage)],
                env=env, port_option=False) as server:
        status, body, headers = fetch(server.url + health)
        assert status == 200 and "Bretagne" in body.decode()
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert fetch(server.url + health + ".json")[2]["access-control-allow-origin"] == "*"  # --cors
        databases = json.loads(fetch(server.url + "/-/databases.json")[1])
        inspected = json.loads(inspect_file.read_text())
        assert databases[0]["hash"] == inspected["oc"]["hash"] and databases[0]["is_mutable"] is False
        served_settings = json.loads(fetch(server.url + "/-/settings.json")[1])
        for name, value in json.loads((ROOT / "settings.json").read_text()).items():
            assert served_settings[name] == value, name
        plugins = {p["name"] for p in json.loads(fetch(server.url + "/-/plugins.json")[1])}
        assert {"open-collectivites", "datasette-dsfr-theme", "datasette-cluster-map"} <= plugins
