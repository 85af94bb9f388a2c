"""The kernel cache: trusted only when private to this user (issue 13 item 1), healing
what it cannot read, surviving a full disk, cleared on request (item 2).

The attacks of the issue are reproduced with a second user where the machine allows it
(running as root: one is created with useradd); each is refused, and its payload never
runs. The payload is a pickle that creates a marker file when unpickled: a control
test shows that it does run when the trust check is switched off.
"""
import errno
import glob
import io
import os
import pickle
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import warnings

import numpy
import pytest

from jitgrad import jit
from jitgrad.kernels import cache, clear_cache
from jitgrad.jit import clear_shared_plans

pytestmark = pytest.mark.eager_only  # these tests set jit= and fusion themselves

X = numpy.linspace(-1.0, 1.0, 20)
ATTACKER = "jitgrad-attacker"


def body(x):
    return x * 3.0 - x * x * 0.5 + 1.0


def new_process(monkeypatch, directory):
    """This process as a new one would start: nothing compiled, nothing warned."""
    monkeypatch.setenv("JITGRAD_CACHE_DIR", str(directory))
    for name, empty in [("_compiled", {}), ("_warned", set()), ("_swept", set()),
                        ("counts", {"compiled": 0, "loaded": 0})]:
        monkeypatch.setattr(cache, name, empty)
    from jitgrad.kernels import fused, numba_cache
    monkeypatch.setattr(numba_cache, "counts", cache.counts)
    if hasattr(fused, "_ready"):  # kernels made ready, by id(): ids of dead ones recur
        monkeypatch.setattr(fused, "_ready", set())
    clear_shared_plans()


def run_kernel(fun=body):
    jitted = jit(fun)
    out = jitted(X)
    numpy.testing.assert_allclose(out, fun(X), rtol=1e-14)
    (plan,) = [plan for entry in jitted._cache.values() for plan in entry]
    (kernel,) = plan.kernels
    return kernel


def compiled_by_numba(kernel):
    return getattr(kernel.dispatcher, "signatures", None)  # not the NumPy fallback


def files(directory, pattern):
    return sorted(glob.glob(os.path.join(str(directory), "kernels", pattern)))


def marker_payload(marker):
    """Pickled bytes that create ``marker`` when unpickled."""
    class Plant:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    return pickle.dumps(Plant())


@pytest.fixture(autouse=True)
def small_kernels(monkeypatch):
    monkeypatch.setenv("JITGRAD_FUSE", "1")
    monkeypatch.setenv("JITGRAD_FUSE_MIN_SIZE", "8")
    monkeypatch.setenv("JITGRAD_WHOLE_PLAN", "0")  # the fused kernels, not whole plans


@pytest.fixture
def stored(monkeypatch, tmp_path):
    """A cache holding ``body``'s kernel, as a first process leaves it."""
    new_process(monkeypatch, tmp_path / "cache")
    run_kernel()
    new_process(monkeypatch, tmp_path / "cache")
    return tmp_path / "cache"


def test_directories_are_created_private(monkeypatch, tmp_path):
    root = tmp_path / "missing parent" / "cache"
    new_process(monkeypatch, root)
    run_kernel()
    for path in (root.parent, root, root / "kernels"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (root / "kernels").iterdir():
        assert not stat.S_IMODE(path.stat().st_mode) & 0o077, path


def test_a_second_run_loads_and_writes_no_compiled_python(stored):
    assert files(stored, "*.nbi") and files(stored, "k_*.py")
    kernel = run_kernel()
    assert cache.stats() == {"compiled": 0, "loaded": 1}
    assert compiled_by_numba(kernel)
    leftovers = [os.path.join(folder, name) for folder, dirs, names in os.walk(stored)
                 for name in names + dirs if name.endswith(".pyc") or name == "__pycache__"]
    assert not leftovers


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777])
def test_a_directory_others_can_write_is_refused(stored, mode):
    os.chmod(stored / "kernels", mode)
    with pytest.warns(RuntimeWarning) as record:
        kernel = run_kernel()
    (message,) = [str(w.message) for w in record if "not trusted" in str(w.message)]
    assert str(stored / "kernels") in message and "chmod 700" in message
    assert compiled_by_numba(kernel) and cache.stats() == {"compiled": 1, "loaded": 0}


def test_an_open_parent_is_refused_too(stored):
    os.chmod(stored, 0o777)
    with pytest.warns(RuntimeWarning, match=f"{stored} is not trusted: group or others"):
        run_kernel()


def test_an_open_cache_with_a_planted_index_never_runs_it(stored, tmp_path, monkeypatch):
    marker = tmp_path / "payload ran"
    (index,) = files(stored, "*.nbi")
    with open(index, "wb") as file:
        file.write(marker_payload(marker))
    os.chmod(stored / "kernels", 0o777)
    with pytest.warns(RuntimeWarning, match="not trusted"):
        run_kernel()
    assert not marker.exists()
    # Control: the same setup with the check switched off runs the payload.
    new_process(monkeypatch, stored)
    monkeypatch.setattr(cache, "untrusted_reason", lambda *args, **kwargs: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_kernel()
    assert marker.exists()


def test_numba_cache_dir_is_not_where_kernels_are_looked_up(tmp_path):
    script = textwrap.dedent("""
        import numpy, jitgrad.numpy as np
        from jitgrad import jit
        jit(lambda x: x * 2.0 - x * x * 0.75)(numpy.arange(20.0))
    """)
    env = dict(os.environ, JITGRAD_CACHE_DIR=str(tmp_path / "cache"),
               NUMBA_CACHE_DIR=str(tmp_path / "numba"), JITGRAD_FUSE_MIN_SIZE="8")
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    assert not (tmp_path / "numba").exists() and files(tmp_path / "cache", "*.nbi")


# Healing ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["*.nbi", "*.nbc"])
@pytest.mark.parametrize("damage", [b"", b"garbage\x00\x01", "truncated"])
def test_a_corrupt_numba_file_is_named_removed_and_the_kernel_recompiled(
        stored, monkeypatch, target, damage):
    (path,) = files(stored, target)
    content = open(path, "rb").read()
    with open(path, "wb") as file:
        file.write(content[: len(content) // 2] if damage == "truncated" else damage)
    with pytest.warns(RuntimeWarning, match=f"{path} in the kernel cache could not be read"):
        kernel = run_kernel()
    assert compiled_by_numba(kernel) and cache.stats() == {"compiled": 1, "loaded": 0}
    new_process(monkeypatch, stored)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # healed: stored again, loads quietly
        run_kernel()
    assert cache.stats() == {"compiled": 0, "loaded": 1}


def test_a_corrupt_source_file_is_replaced(stored):
    (path,) = files(stored, "k_*.py")
    expected = open(path).read()
    with open(path, "wb") as file:
        file.write(b"\xff\xfe not python (")
    with pytest.warns(RuntimeWarning, match=f"{path} in the kernel cache was not written"):
        run_kernel()
    assert open(path).read() == expected
    assert cache.stats() == {"compiled": 0, "loaded": 1}  # the machine code was fine


def test_compiled_python_files_are_removed_unread(stored):
    (source,) = files(stored, "k_*.py")
    name = os.path.basename(source)[:-3]
    pycache = stored / "kernels" / "__pycache__"
    pycache.mkdir()
    (pycache / f"{name}.cpython-311.pyc").write_bytes(b"bad marshal data")
    (stored / "kernels" / f"{name}.pyc").write_bytes(b"\x00" * 16)
    with pytest.warns(RuntimeWarning, match="removed .*__pycache__.*never reads compiled"):
        run_kernel()
    assert not pycache.exists() and not files(stored, "*.pyc")


class FullDisk(io.RawIOBase):
    def __init__(self, fd, *args, **kwargs):
        self.fd = fd

    def writable(self):
        return True

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self):
        if not self.closed:
            os.close(self.fd)
        super().close()


def test_a_full_disk_keeps_the_compiled_kernel_and_leaves_no_temporary_files(
        monkeypatch, tmp_path):
    new_process(monkeypatch, tmp_path / "cache")
    with monkeypatch.context() as full:
        full.setattr(os, "fdopen", FullDisk)
        with pytest.warns(RuntimeWarning, match="No space left on device") as record:
            kernel = run_kernel()
    assert len(record) == 2  # the source, then Numba's index: each write failed once
    assert compiled_by_numba(kernel)  # not discarded for the NumPy fallback
    left = [name for name in os.listdir(tmp_path / "cache" / "kernels")
            if not name.endswith(".lock")]
    assert left == []  # no temporary files, nothing half-written
    new_process(monkeypatch, tmp_path / "cache")  # the disk has room again
    run_kernel()
    assert files(tmp_path / "cache", "*.nbi") and files(tmp_path / "cache", "*.nbc")


def test_processes_sharing_the_cache_compile_each_kernel_once(tmp_path):
    script = textwrap.dedent("""
        import numpy, jitgrad.numpy as np
        from jitgrad import jit
        from jitgrad.kernels import cache
        jit(lambda x: x * 4.0 - x * x * 0.375 + 2.0)(numpy.arange(20.0))
        print(cache.stats()["compiled"], cache.stats()["loaded"])
    """)
    env = dict(os.environ, JITGRAD_CACHE_DIR=str(tmp_path), JITGRAD_FUSE_MIN_SIZE="8")
    runs = [subprocess.Popen([sys.executable, "-c", script], env=env, text=True,
                             stdout=subprocess.PIPE) for _ in range(2)]
    counts = [tuple(map(int, run.communicate()[0].split())) for run in runs]
    assert sorted(counts) == [(0, 1), (1, 0)]


def test_clear_cache_and_the_command_line(stored):
    command = [sys.executable, "-m", "jitgrad.cache"]
    env = dict(os.environ, JITGRAD_CACHE_DIR=str(stored))
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    assert str(stored / "kernels") in out and "trusted: yes" in out
    assert "1 kernels, 4 files" in out and "kB" in out
    out = subprocess.run(command + ["clear"], env=env, check=True, capture_output=True,
                         text=True).stdout
    assert out.startswith("removed 4 files") and not (stored / "kernels").exists()
    run_kernel()
    assert files(stored, "*.nbi")
    files_removed, size = clear_cache()
    assert files_removed == 4 and size > 0 and not (stored / "kernels").exists()


# A second user ----------------------------------------------------------------------

def _second_user():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("the attacks need a second user, and only root can create one here "
                    f"(running as uid {getattr(os, 'geteuid', lambda: '?')()})")
    import pwd
    try:
        return pwd.getpwnam(ATTACKER).pw_uid
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        pytest.skip("useradd is not available to create a second user")
    made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                           "/usr/sbin/nologin", ATTACKER], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"useradd could not create a second user: {made.stderr.strip()}")
    return pwd.getpwnam(ATTACKER).pw_uid


@pytest.fixture
def attacker():
    """``attack(files=..., folders=..., mode=...)`` plants files as a second user (with
    /bin/sh: this Python may live where that user cannot run it); ``home`` is a
    directory of theirs, beside which the victim (this process) works."""
    uid = _second_user()
    base = tempfile.mkdtemp(prefix="jitgrad-attack-")
    os.chmod(base, 0o755)
    home, stage = os.path.join(base, "attacker"), os.path.join(base, "stage")
    os.mkdir(home)
    os.chown(home, uid, -1)
    os.mkdir(stage)

    def attack(files, folders=(), mode=0o777):
        lines = ["set -e", "umask 0"]
        for folder in folders:
            lines.append(f"mkdir -p {shlex.quote(folder)}; chmod {mode:o} {shlex.quote(folder)}")
        for number, (path, data) in enumerate(files.items()):
            staged = os.path.join(stage, str(number))
            with open(staged, "wb") as file:
                file.write(data)
            os.chmod(staged, 0o644)
            target = shlex.quote(path)
            # swapped: the victim's file removed, the attacker's in its place
            lines.append(f"mkdir -p $(dirname {target}); rm -f {target}; "
                         f"cp {shlex.quote(staged)} {target}")
        subprocess.run(["/bin/sh", "-c", "\n".join(lines)], user=ATTACKER, cwd="/",
                       check=True)
    attack.home, attack.base = home, base
    yield attack
    shutil.rmtree(base, ignore_errors=True)


def _kernel_names(monkeypatch, tmp_path):
    """Names, source and Numba files of ``body``'s kernel, from a private cache."""
    new_process(monkeypatch, tmp_path / "private")
    run_kernel()
    (source,) = files(tmp_path / "private", "k_*.py")
    (index,) = files(tmp_path / "private", "*.nbi")
    return os.path.basename(source)[:-3], open(source, "rb").read(), os.path.basename(index)


def _refused(monkeypatch, root, marker, match):
    new_process(monkeypatch, root)
    with pytest.warns(RuntimeWarning) as record:
        run_kernel()
    refusals = [str(w.message) for w in record if "not trusted" in str(w.message)]
    assert len(refusals) == 1 and match in refusals[0], refusals
    assert not os.path.exists(marker)
    return refusals[0]


def test_attack_a_shared_open_cache_with_a_planted_numba_index(attacker, monkeypatch,
                                                                tmp_path):
    name, source, index = _kernel_names(monkeypatch, tmp_path)
    shared = os.path.join(attacker.home, "shared-cache")
    marker = os.path.join(attacker.home, "payload ran")
    kernels = os.path.join(shared, "kernels")
    attacker(folders=[shared, kernels], mode=0o777, files={
        os.path.join(kernels, f"{name}.py"): source,
        os.path.join(kernels, index): marker_payload(marker)})
    message = _refused(monkeypatch, shared, marker, f"{shared} is not trusted")
    assert "belongs to user 'jitgrad-attacker'" in message and "JITGRAD_CACHE_DIR" in message
    # Control: with the check off, this process would have run the attacker's payload.
    new_process(monkeypatch, shared)
    monkeypatch.setattr(cache, "untrusted_reason", lambda *args, **kwargs: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_kernel()
    assert os.path.exists(marker)


def test_attack_the_victims_own_cache_made_world_writable(attacker, monkeypatch, tmp_path):
    name, source, index = _kernel_names(monkeypatch, tmp_path)
    victim = os.path.join(attacker.base, "victim-cache")
    new_process(monkeypatch, victim)
    run_kernel()  # the victim's own cache, then opened up by mistake
    kernels = os.path.join(victim, "kernels")
    for path in (victim, kernels):
        os.chmod(path, 0o777)
    marker = os.path.join(attacker.home, "payload ran")
    payload = marker_payload(marker)
    attacker(files={
        os.path.join(kernels, index): payload,
        os.path.join(kernels, "__pycache__", f"{name}.cpython-311.pyc"): payload})
    message = _refused(monkeypatch, victim, marker, f"{victim} is not trusted")
    assert "group or others can write to it (mode 0777)" in message
    assert f"chmod 700 {victim}" in message and "python -m jitgrad.cache clear" in message


def test_attack_someone_elses_cache_with_a_pyc_beside_a_kernel(attacker, monkeypatch,
                                                               tmp_path):
    name, source, index = _kernel_names(monkeypatch, tmp_path)
    foreign = os.path.join(attacker.home, "cache")
    kernels = os.path.join(foreign, "kernels")
    marker = os.path.join(attacker.home, "payload ran")
    code = compile(f"open({marker!r}, 'w')", f"{name}.py", "exec")
    import importlib._bootstrap_external as bootstrap  # a .pyc that matches the source
    pyc = bytes(bootstrap._code_to_timestamp_pyc(code, 0, len(source)))
    attacker(folders=[foreign, kernels], mode=0o755, files={
        os.path.join(kernels, f"{name}.py"): source,
        os.path.join(kernels, "__pycache__", f"{name}.cpython-311.pyc"): pyc,
        os.path.join(kernels, f"{name}.pyc"): pyc,
        os.path.join(kernels, index): marker_payload(marker)})
    message = _refused(monkeypatch, foreign, marker, f"{foreign} is not trusted")
    assert "belongs to user 'jitgrad-attacker'" in message
    assert os.listdir(kernels) and stat.S_IMODE(os.stat(kernels).st_mode) == 0o755  # untouched


def test_a_users_numba_function_without_a_module_compiles_beside_our_kernels(monkeypatch):
    """jitgrad listens to Numba's compile events; a function made by exec has no
    ``__module__`` (None), which the listener must pass over, not crash on."""
    import numba

    import jitgrad
    import jitgrad.numpy as jnp
    for name, value in (("JITGRAD_FUSE", "1"), ("JITGRAD_FUSE_AFTER", "0"),
                        ("JITGRAD_FUSE_MIN_SIZE", "16")):
        monkeypatch.setenv(name, value)
    f = jitgrad.jit(lambda x: jnp.sin(x * 2.0 + 1.0) * x, trace_after=0)
    f(numpy.ones(64))  # a kernel loaded: the listener is installed
    namespace = {}
    exec("def plus_one(x):\n    return x + 1\n", namespace)
    assert namespace["plus_one"].__module__ is None
    assert numba.njit(namespace["plus_one"])(41) == 42

