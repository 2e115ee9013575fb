"""The model cache (engine/cache.py): reused only for exactly the same files, never different from a fresh load."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import engine
import engine.model as model_module
from conftest import ROOT, build_model, write_assessment


@pytest.fixture
def cache(tmp_path, monkeypatch):
    where = tmp_path / "cache"
    monkeypatch.setenv("QMGRADE_CACHE_DIR", str(where))
    monkeypatch.delenv("QMGRADE_NO_CACHE", raising=False)
    return where


def fresh(directory):
    return model_module._load_model(directory)


def refuse_to_load(monkeypatch):
    def loader(*args, **kwargs):
        raise AssertionError("the model was parsed again")
    monkeypatch.setattr(model_module, "_load_model", loader)


def test_second_load_comes_from_the_cache_and_equals_a_fresh_load(tmp_path, cache, monkeypatch):
    directory = build_model(tmp_path / "m")
    first = engine.load_model(directory)
    assert len(list(cache.glob("model-*.pickle"))) == 1
    expected = fresh(directory)
    refuse_to_load(monkeypatch)
    second = engine.load_model(directory)
    assert second == expected == first
    assert second.sha256 == expected.sha256 and second.path == expected.path


def test_a_changed_file_is_never_trusted_even_with_the_same_size_and_time(tmp_path, cache):
    directory = build_model(tmp_path / "m")
    engine.load_model(directory)
    criteria = directory / "knowledge" / "criteria.yaml"
    info = os.stat(criteria)
    text = criteria.read_text(encoding="utf-8")
    assert "Criterion alpha-2-1" in text
    criteria.write_text(text.replace("Criterion alpha-2-1", "Criterion alpha-2-X"), encoding="utf-8")
    os.utime(criteria, ns=(info.st_atime_ns, info.st_mtime_ns))      # same size, same mtime
    assert os.stat(criteria).st_size == info.st_size
    model = engine.load_model(directory)
    assert model.criteria["alpha-2-1"].text["en"] == "Criterion alpha-2-X"


def test_an_added_or_removed_rule_file_is_seen(tmp_path, cache):
    directory = build_model(tmp_path / "m")
    before = engine.load_model(directory)
    (directory / "rules" / "cap-recall.yaml").unlink()
    without = engine.load_model(directory)
    assert len(without.rules) == len(before.rules) - 1
    assert "cap-recall" not in {r.id for r in without.rules}



# -- the index of stamps (issue 13): the key read back instead of every file hashed again ------------------------
@pytest.fixture
def trusting(monkeypatch):
    """The index trusted for files written a moment ago (a test's model is written just before it is loaded;
    outside tests a file hashed within RACY_NS of its change is hashed again, see the next tests)."""
    import engine.cache as cache_module
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    return cache_module


def hashing_counted(monkeypatch, cache_module) -> list:
    calls = []
    real = cache_module._fingerprint
    monkeypatch.setattr(cache_module, "_fingerprint", lambda *a, **k: calls.append(1) or real(*a, **k))
    return calls


def test_while_no_file_changed_the_key_comes_from_the_index(tmp_path, cache, trusting, monkeypatch):
    directory = build_model(tmp_path / "m")
    first = engine.load_model(directory)
    engine.load_model(directory)                      # the index written by a load whose files were cached
    assert len(list(cache.glob("index-*.pickle"))) == 1
    calls = hashing_counted(monkeypatch, trusting)
    refuse_to_load(monkeypatch)
    assert engine.load_model(directory) == first and calls == []


@pytest.mark.parametrize("change", ["content, same size and time", "file added", "file removed", "folder added"])
def test_any_change_to_the_files_is_seen_through_the_index(tmp_path, cache, trusting, monkeypatch, change):
    directory = build_model(tmp_path / "m")
    before = engine.load_model(directory)
    engine.load_model(directory)
    criteria = directory / "knowledge" / "criteria.yaml"
    if change.startswith("content"):
        info = os.stat(criteria)
        criteria.write_text(criteria.read_text(encoding="utf-8").replace("Criterion alpha-2-1", "Criterion alpha-2-X"),
                            encoding="utf-8")
        os.utime(criteria, ns=(info.st_atime_ns, info.st_mtime_ns))      # same size, same mtime: a new ctime
        assert os.stat(criteria).st_size == info.st_size
    elif change == "file added":
        (directory / "rules" / "cap-recall-2.yaml").write_text(
            (directory / "rules" / "cap-recall.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    elif change == "file removed":
        (directory / "rules" / "cap-recall.yaml").unlink()
    else:
        (directory / "rules" / "more").mkdir()
        (directory / "rules" / "more" / "cap-recall-2.yaml").write_text(
            (directory / "rules" / "cap-recall.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    calls = hashing_counted(monkeypatch, trusting)
    after = engine.load_model(directory)
    assert calls == [1] and after.sha256 != before.sha256
    assert after == model_module._load_model(directory)    # what a fresh load of the changed files gives


def test_a_file_changed_moments_before_it_was_hashed_is_hashed_again(tmp_path, cache, monkeypatch):
    """A change within the file system's clock tick of the hashing might leave a file's times as they were
    ("racily clean", as git calls it): an index holding such a file is not trusted."""
    import engine.cache as cache_module
    directory = build_model(tmp_path / "m")
    engine.load_model(directory)
    engine.load_model(directory)
    calls = hashing_counted(monkeypatch, cache_module)
    engine.load_model(directory)        # its files were written within RACY_NS of their hashing
    assert calls == [1]


def test_a_model_with_errors_is_reported_every_time_and_never_cached(tmp_path, cache):
    directory = build_model(tmp_path / "m")
    (directory / "knowledge" / "broken.yaml").write_text("criteria: [{id: 1}]\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(engine.ModelError):
            engine.load_model(directory)
    assert not cache.exists() or not list(cache.glob("model-*.pickle"))


def test_no_cache_when_turned_off(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("QMGRADE_NO_CACHE", "1")
    directory = build_model(tmp_path / "m")
    engine.load_model(directory)
    assert not cache.exists()


def test_a_damaged_entry_is_ignored_and_replaced(tmp_path, cache, monkeypatch):
    directory = build_model(tmp_path / "m")
    expected = engine.load_model(directory)
    (entry,) = cache.glob("model-*.pickle")
    entry.write_bytes(entry.read_bytes()[:100])
    assert engine.load_model(directory) == expected
    refuse_to_load(monkeypatch)
    assert engine.load_model(directory) == expected       # rewritten whole


def test_a_cache_directory_others_may_write_is_not_used(tmp_path, cache, monkeypatch):
    directory = build_model(tmp_path / "m")
    engine.load_model(directory)
    os.chmod(cache, 0o777)
    calls = []
    real = model_module._load_model

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(model_module, "_load_model", counting)
    engine.load_model(directory)
    assert calls == [1]


def test_the_directory_as_given_shapes_the_entry(tmp_path, cache, monkeypatch):
    """Relative and absolute spellings of one model directory give the paths a fresh load gives."""
    directory = build_model(tmp_path / "m")
    monkeypatch.chdir(tmp_path)
    assert engine.load_model("m").path == fresh("m").path == "m"
    assert engine.load_model(directory).path == str(directory)


def test_processes_filling_the_cache_at_once_agree(tmp_path, cache):
    """Eight processes load (and store) the same model at the same time: every one grades the same,
    no temporary file is left, and the entry left behind is whole."""
    directory = build_model(tmp_path / "m")
    assessment = write_assessment(tmp_path / "a.yaml", {"alpha-2-1": "full", "alpha-2-2": "largely"})
    env = {**os.environ, "QMGRADE_CACHE_DIR": str(cache)}
    command = [sys.executable, str(ROOT / "cli.py"), "assess", str(assessment), "--model", str(directory),
               "--format", "json", "--no-trace"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
                 for _ in range(8)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert all(p.returncode == 0 for p in processes), [o[1][-500:] for o in outputs]
    assert len({o[0] for o in outputs}) == 1
    assert json.loads(outputs[0][0])["level"]["rank"] == 1
    assert not list(cache.glob(".model-*"))
    uncached = subprocess.run(command, capture_output=True, env={**env, "QMGRADE_NO_CACHE": "1"}, timeout=600)
    assert uncached.stdout == outputs[0][0]


def test_a_cache_folder_others_can_write_to_is_never_read(tmp_path, cache, monkeypatch):
    """The cache holds pickles: one planted by another user must never be unpickled."""
    directory = build_model(tmp_path / "m")
    engine.load_model(directory)
    assert len(list(cache.glob("model-*.pickle"))) == 1
    os.chmod(cache, 0o777)
    calls = []
    real = model_module._load_model
    monkeypatch.setattr(model_module, "_load_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    engine.load_model(directory)
    assert calls == [1]            # parsed afresh: the world-writable folder was not trusted


def test_a_change_to_any_engine_source_makes_a_new_key(tmp_path, monkeypatch):
    """The loader's code is part of the key, its subpackages too (engine/inputs, engine/render ...)."""
    import engine.cache as cache_module
    source = tmp_path / "engine"
    (source / "inputs").mkdir(parents=True)
    (source / "model.py").write_text("A = 1\n", encoding="utf-8")
    (source / "inputs" / "coerce.py").write_text("B = 1\n", encoding="utf-8")
    monkeypatch.setattr(cache_module, "_ENGINE", source)
    digests = []
    for change in (None, "B = 2\n"):
        if change:
            (source / "inputs" / "coerce.py").write_text(change, encoding="utf-8")
        monkeypatch.setattr(cache_module, "_engine_digest", None)
        digests.append(cache_module._engine_source_digest())
    assert digests[0] != digests[1]


def test_a_json_company_is_graded_without_pyyaml_once_the_model_is_cached(tmp_path, cache):
    """Start-up (issue 13): with the model from the cache, `assess company.json` reads no YAML, so PyYAML is
    never imported; a YAML company still reads (PyYAML imported on the first YAML read)."""
    ratings = {cid: "full" for cid in engine.load_model(None).criteria}
    document = {"company": {"id": "c-1", "name": "测试公司"}, "ratings": ratings}
    company = tmp_path / "company.json"
    company.write_text(json.dumps(document), encoding="utf-8")
    code = ("import sys, json\n"
            "from click.testing import CliRunner\n"
            "import cli\n"
            "result = CliRunner().invoke(cli.main, ['assess', sys.argv[1], '--format', 'json', '--no-trace'])\n"
            "assert result.exit_code == 0, result.output\n"
            "level = json.loads(result.output)['level']['rank']\n"
            "print(level, 'yaml' in sys.modules)\n")
    env = {**os.environ, "QMGRADE_CACHE_DIR": str(cache)}
    runs = [subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT,
                           env=env, timeout=120)
            for path in (company, company, write_assessment(tmp_path / "company.yaml", ratings))]
    assert [run.returncode for run in runs] == [0, 0, 0], [run.stderr for run in runs]
    first, cached, from_yaml = (run.stdout.split() for run in runs)
    assert cached == [first[0], "False"]          # the model from the cache: no YAML read, no PyYAML
    assert from_yaml == [first[0], "True"]        # the same grade from a YAML file, read by PyYAML
    assert first[0] == "5"                        # every criterion full
