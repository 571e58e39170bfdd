# -*- coding: utf-8 -*-
# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The folder job behind ``storeops.shop.convert_images`` (one image at a time is ``_image_convert``).

Private to the collection: it can change at any time.

One call converts every matching file of ``src`` into ``dest`` with a few forked worker
processes (see :func:`run_tasks`: batches of files, large ones first, smaller towards the
end). Each output is encoded in memory and written by ``_fs.atomic_write_bytes(...,
fsync=False)`` (temporary file in ``dest``, then rename), so an interrupted run never
leaves a partial image under an output name; the manifest goes through ``_fs.atomic_output``.

Idempotency comes from a manifest, ``dest/.convert_images.json``, written atomically.
For every output it records the SHA-256 of the source's content, a fingerprint of the
options that change pixels or bytes (see :meth:`Spec.fingerprint`), and the SHA-256 of
the output written. A file is converted again when any of the three no longer matches,
so a touched but identical source is left alone, an edited source or a changed option
converts just what is affected, and a deleted or modified output is rebuilt. Modification
times are never used.
"""

from __future__ import annotations

import collections
import errno
import fnmatch
import gc
import hashlib
import json
import mmap
import os
import pickle
import selectors
import signal
import struct
import sys
import time
import warnings

try:
    import fcntl
except ImportError:  # not POSIX: runs are not serialised against each other
    fcntl = None

from ansible_collections.storeops.shop.plugins.module_utils._fs import atomic_output, atomic_write_bytes, file_sha256
from ansible_collections.storeops.shop.plugins.module_utils._job import JobError, error_entry
from ansible_collections.storeops.shop.plugins.module_utils._image_convert import (
    FORMATS,
    HAS_PIL,
    PIL_IMPORT_ERROR,
    ImageError,
    Source,
    SpecError,
    allow_pixels,
    warm_up,
    Spec,
    convert_source,
    describe_os_error,
    probe_source,
)

MANIFEST = '.convert_images.json'
MANIFEST_FORMAT = 1
DEFAULT_PATTERNS = ('*.tif', '*.tiff')
_FLUSH_SECONDS = 2.0

# The catalog site refuses images of more pixels (its CATALOG_MAX_IMAGE_PIXELS): the same limit here.
DEFAULT_MAX_PIXELS = 40000000

__all__ = (
    'HAS_PIL',
    'PIL_IMPORT_ERROR',
    'DEFAULT_MAX_PIXELS',
    'DEFAULT_PATTERNS',
    'MANIFEST',
    'Spec',
    'convert_folder',
    'convert_images',
    'default_workers',
    'in_shard',
)


def shard_of(name, count):
    """The shard (0..count-1) of a source file ``name`` (relative to ``src``).

    The SHA-256 of the name's bytes (UTF-8; a name that is not valid UTF-8 keeps its raw
    bytes) read as a big-endian number, modulo ``count``: the same on every host, Python
    version and run, whatever else is in the folder, and spread evenly.
    """
    return int.from_bytes(hashlib.sha256(os.fsencode(name)).digest(), 'big') % count


def in_shard(name, shard):
    """True when ``name`` belongs to ``shard`` (a dict with ``index`` and ``count``, or None for all)."""
    return shard is None or shard_of(name, shard['count']) == shard['index']


def default_workers():
    """CPUs this process may run on (honours affinity and cpusets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def _output_matches(path, entry):
    """True when the output on disk is still exactly the one the manifest recorded."""
    try:
        if os.path.getsize(path) != entry.get('bytes'):
            return False
        return file_sha256(path) == entry.get('sha256')
    except OSError:
        return False


def _existing_sha256(path):
    try:
        return file_sha256(path)
    except OSError:
        return None


_SPECS = {}


def _spec(spec_json):
    """The Spec for its JSON form, built once per worker process."""
    if spec_json not in _SPECS:
        _SPECS[spec_json] = Spec.from_dict(json.loads(spec_json))
    return _SPECS[spec_json]


def process_file(task):
    """Convert (or check) one file. Runs in a worker process; never raises.

    ``task`` is (src, dest, spec as JSON, manifest entry or None, check_mode, max_pixels).
    """
    with warnings.catch_warnings():
        # Pillow warns about odd but readable files (corrupt EXIF, huge images): not our output
        warnings.simplefilter('ignore')
        return _process_file(task)


def _process_file(task):
    src, dest, spec_json, entry, check_mode, max_pixels = task
    result = {'src': src, 'dest': dest, 'size': None, 'action': 'failed'}
    try:
        spec = _spec(spec_json)
        fingerprint = spec.fingerprint()
        allow_pixels(max_pixels)
        with Source(src, map_large=_WORKER['in_pool']) as source:
            if (
                entry
                and entry.get('source_sha256') == source.sha256
                and entry.get('options') == fingerprint
                and _output_matches(dest, entry)
            ):
                result.update(action='unchanged', size=entry.get('size'), entry=entry)
                return result
            (width, height), dummy = source.plan(spec)
            if width * height > max_pixels:
                raise ImageError(
                    'refused: %dx%d is %s pixels, more than max_pixels (%s)'
                    % (width, height, _megapixels(width * height), _megapixels(max_pixels))
                )
            if check_mode:
                result.update(action='converted', size=list(probe_source(source, spec)), before=_existing_sha256(dest))
                return result
            data, size = convert_source(source, spec)
            source_sha256 = source.sha256
        digest = _sha256_bytes(data)
        before = _existing_sha256(dest)
        if before != digest:
            try:
                atomic_write_bytes(dest, data, fsync=False)
            except OSError as exc:
                raise ImageError(describe_os_error(exc, 'writing', dest))
        result.update(
            action='unchanged' if before == digest else 'converted',
            size=list(size),
            before=before,
            entry={
                'source': os.path.basename(src),
                'source_sha256': source_sha256,
                'options': fingerprint,
                'sha256': digest,
                'bytes': len(data),
                'size': list(size),
            },
        )
    except ImageError as exc:
        result['error'] = str(exc)
    except Exception as exc:  # one strange file must not stop the others
        result['error'] = 'unexpected error: %s: %s' % (type(exc).__name__, exc)
    return result


_WORKER = {'in_pool': False}


def _megapixels(count):
    return '%.1f M' % (count / 1e6) if count >= 1e6 else '%d' % count


# --- the worker pool ----------------------------------------------------------------------------
#
# A few processes forked from this one, each fed one batch of task indices at a time through its
# own pipe (the tasks themselves are inherited with the fork, nothing is pickled on the way out)
# and answering with one message per batch. The module's process only plans, hands out the next
# batch and collects results; it converts nothing itself.
#
# Why not concurrent.futures: a worker that dies (the OOM killer, a crash in a decoder) breaks a
# ProcessPoolExecutor as a whole, and every file still queued fails with it, whoever crashed.
# Here each worker records in shared memory the task it is working on: a dead worker costs one
# retry of that one file (then it is reported, alone), everything else goes on in a new worker.
# It also spares the executor's import, threads and queues: measured with the same 32 batches of
# 500 files that do nothing, 24-34 ms and 18-26 ms of this process's CPU there, 8-13 ms and 5-8 ms
# here, against some 250 ms for converting 500 icons on 2 cores.

# Each file's cost is estimated from its size plus this fixed part (opening, hashing, encoding,
# the atomic write): measured, a 147 kB icon takes 0.8 ms and a 24 MB TIFF 28 ms on one core,
# about 1.1 ms per MB plus 0.7 ms.
_FILE_COST = 600 * 1024
# A batch is what is left divided by this many per worker (guided self-scheduling: the batches
# shrink towards the end, so that the workers finish together) ...
_SHARES_PER_WORKER = 2
# ... at least this much (2 or 3 icons: a round trip to this process costs about 0.1 ms) ...
_MIN_BATCH_COST = 2 * 1024 * 1024
# ... and at most this much (about 20 ms of work, some 20 icons; a big file is a batch of its
# own): a worker slowed down by other work on the machine holds up no more than that at the end.
_MAX_BATCH_COST = 16 * 1024 * 1024
_FRAME = struct.Struct('<I')
_IDLE = -1


def _cost(task):
    try:
        return os.stat(task[0]).st_size + _FILE_COST
    except OSError:
        return _FILE_COST


def plan_batches(costs, workers):
    """Split task indices 0..n-1 with these ``costs`` into guided batches, in order (see the constants)."""
    batches = []
    left = sum(costs)
    index = 0
    while index < len(costs):
        target = min(_MAX_BATCH_COST, max(_MIN_BATCH_COST, left / float(_SHARES_PER_WORKER * workers)))
        batch, cost = [index], costs[index]
        index += 1
        while index < len(costs) and cost + costs[index] <= target:
            batch.append(index)
            cost += costs[index]
            index += 1
        batches.append(batch)
        left -= cost
    return batches


def _send(fd, obj):
    data = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd):
    """One message from a blocking pipe, or None at end of file."""
    header = _read_exactly(fd, _FRAME.size)
    if header is None:
        return None
    body = _read_exactly(fd, _FRAME.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def _read_exactly(fd, size):
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b''.join(chunks)


def _worker_loop(tasks, commands, answers, progress, slot, parent):
    """The life of a worker process: batches in, results out, until the pipe closes."""
    _WORKER['in_pool'] = True
    offset = slot * 8
    while True:
        batch = _receive(commands)
        if not batch:
            return
        results = []
        for index in batch:
            if os.getppid() != parent:
                return  # the module is gone (killed): stop writing into dest
            struct.pack_into('<q', progress, offset, index)
            results.append((index, process_file(tasks[index])))
            struct.pack_into('<q', progress, offset, _IDLE)
        _send(answers, results)


def _death(status):
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = 'signal %d' % number
        return 'worker process died (killed by %s)' % name
    return 'worker process died (exit status %d)' % os.WEXITSTATUS(status)


class _Worker:
    def __init__(self, pid, slot, commands, answers):
        self.pid = pid
        self.slot = slot
        self.commands = commands  # write end, None once told to stop
        self.answers = answers  # read end
        self.queued = collections.deque()  # the batch sent and not answered yet (one at most)
        self.buffer = bytearray()


class _Pool:
    """Runs ``process_file`` over ``tasks`` in forked workers; see the comment above."""

    def __init__(self, tasks, workers, on_result):
        self.tasks = tasks
        self.workers = workers
        self.on_result = on_result
        self.costs = [_cost(task) for task in tasks]
        self.batches = collections.deque(plan_batches(self.costs, workers))
        self.alone = collections.deque()  # a worker died on these once: retried in a batch of their own
        self.strikes = {}
        self.live = {}  # answers fd -> _Worker
        self.selector = selectors.DefaultSelector()
        self.free_slots = list(range(workers - 1, -1, -1))
        self.deaths = 0
        self.last_death = None
        self.progress = mmap.mmap(-1, 8 * workers)
        self.parent = os.getpid()

    # -- handing out work

    def _next_batch(self):
        if self.batches:
            batch = self.batches.popleft()
        elif self.alone:
            batch = [self.alone.popleft()]
        else:
            return None
        return batch

    def _requeue(self, indices):
        """Put unfinished tasks back first in line (re-planned: their batch may have been big)."""
        if indices:
            for batch in reversed(plan_batches([self.costs[index] for index in indices], self.workers)):
                self.batches.appendleft([indices[i] for i in batch])

    def _feed(self, worker):
        """Send ``worker`` its next batch, or tell it to exit when there is none."""
        batch = self._next_batch()
        if batch is None:
            os.close(worker.commands)
            worker.commands = None
        else:
            worker.queued.append(batch)
            try:
                _send(worker.commands, batch)
            except OSError:  # it has just died: its answers pipe says so next, and the batch goes back
                pass

    def _spawn(self):
        slot = self.free_slots.pop()
        struct.pack_into('<q', self.progress, slot * 8, _IDLE)
        commands_r, commands_w = os.pipe()
        answers_r, answers_w = os.pipe()
        theirs = [w.answers for w in self.live.values()] + [
            w.commands for w in self.live.values() if w.commands is not None
        ]
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()  # or the child would write the same buffered text again
            except (AttributeError, OSError, ValueError):
                pass
        gc.freeze()  # the child's garbage collector leaves the inherited objects (and their pages) alone
        try:
            pid = os.fork()
        except OSError:
            for fd in (commands_r, commands_w, answers_r, answers_w):
                os.close(fd)
            self.free_slots.append(slot)
            return None
        finally:
            if os.getpid() == self.parent:
                gc.unfreeze()
        if pid == 0:  # the worker
            code = 0
            try:
                for fd in theirs + [commands_w, answers_r]:
                    os.close(fd)
                _worker_loop(self.tasks, commands_r, answers_w, self.progress, slot, self.parent)
            except BaseException:
                code = 1
            finally:
                os._exit(code)  # never back into the module's code (and no atexit handlers)
        os.close(commands_r)
        os.close(answers_w)
        worker = _Worker(pid, slot, commands_w, answers_r)
        self.live[answers_r] = worker
        self.selector.register(answers_r, selectors.EVENT_READ, worker)
        return worker

    # -- results and deaths

    def _answers(self, worker, data):
        worker.buffer += data
        while len(worker.buffer) >= _FRAME.size:
            size = _FRAME.unpack_from(worker.buffer)[0]
            if len(worker.buffer) < _FRAME.size + size:
                break
            results = pickle.loads(bytes(worker.buffer[_FRAME.size : _FRAME.size + size]))
            del worker.buffer[: _FRAME.size + size]
            worker.queued.popleft()
            for dummy_index, result in results:
                self.on_result(result)
            self._feed(worker)

    def _ended(self, worker):
        del self.live[worker.answers]
        self.selector.unregister(worker.answers)
        os.close(worker.answers)
        if worker.commands is not None:
            os.close(worker.commands)
        dummy_pid, status = os.waitpid(worker.pid, 0)
        unfinished = [index for batch in worker.queued for index in batch]
        current = struct.unpack_from('<q', self.progress, worker.slot * 8)[0]
        self.free_slots.append(worker.slot)
        if not unfinished and status == 0:
            return
        reason = _death(status)
        self.last_death = reason
        if current in unfinished:
            unfinished.remove(current)
            self.strikes[current] = self.strikes.get(current, 0) + 1
            if self.strikes[current] >= 2:
                self._fail([current], reason)
            else:
                self.alone.append(current)
        else:  # killed between two files: nobody to blame
            self.deaths += 1
        self._requeue(unfinished)

    def _fail(self, indices, reason):
        for index in indices:
            task = self.tasks[index]
            self.on_result({'src': task[0], 'dest': task[1], 'size': None, 'action': 'failed', 'error': reason})

    def _work_left(self):
        return bool(self.batches or self.alone)

    def run(self):
        try:
            while True:
                while len(self.live) < self.workers and self._work_left() and self.deaths <= self.workers + 2:
                    worker = self._spawn()
                    if worker is None:
                        break
                    self._feed(worker)
                if not self.live:
                    break
                for key, dummy_events in self.selector.select():
                    worker = key.data
                    if worker.answers not in self.live:
                        continue  # ended in this round
                    data = os.read(worker.answers, 65536)
                    if data:
                        self._answers(worker, data)
                    else:
                        self._ended(worker)
        finally:
            for worker in list(self.live.values()):  # only after an error in this process
                try:
                    os.kill(worker.pid, signal.SIGKILL)
                    os.waitpid(worker.pid, 0)
                except OSError:
                    pass
                for fd in (worker.answers, worker.commands):
                    if fd is not None:
                        os.close(fd)
            self.live.clear()
            self.selector.close()
            self.progress.close()
        # No worker could be started, or they keep dying between files: finish here, except
        # the files that did kill a worker.
        rest = [index for batch in self.batches for index in batch]
        self.batches.clear()
        if self.deaths > self.workers + 2:
            self._fail(rest + list(self.alone), self.last_death)
            return
        for index in rest:
            self.on_result(process_file(self.tasks[index]))
        self._fail(list(self.alone), self.last_death or 'worker process died')


def run_tasks(tasks, workers, on_result):
    """Run ``process_file`` over ``tasks`` in ``workers`` processes, calling ``on_result`` as results come.

    Small files go to the workers in batches (a 192x192 icon takes about a millisecond, less
    than handing it over alone would). If a worker dies (killed by the OOM killer, a crash in a
    decoder), only the file it was converting is retried, once, in a batch of its own; if that
    kills a worker again, it is reported as failed. The rest of its batch goes to a new worker.
    """
    workers = max(1, min(workers, len(tasks)))
    if workers == 1:
        for task in tasks:
            on_result(process_file(task))
        return
    warm_up()  # once here rather than in every worker
    _Pool(tasks, workers, on_result).run()


class Manifest:
    """``dest/.convert_images.json``: output name -> fingerprints (see the module docstring)."""

    def __init__(self, dest):
        self.path = os.path.join(dest, MANIFEST)
        self.entries = {}
        self.warning = None
        self.dirty = False
        try:
            with open(self.path, 'rb') as handle:
                data = json.loads(handle.read().decode('utf-8'))
            if data.get('format') != MANIFEST_FORMAT or not isinstance(data.get('outputs'), dict):
                raise ValueError('unknown format')
            self.entries = data['outputs']
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError) as exc:
            self.warning = 'ignoring unreadable manifest %s (%s): every file is checked again' % (self.path, exc)

    def get(self, name):
        entry = self.entries.get(name)
        return entry if isinstance(entry, dict) else None

    def set(self, name, entry):
        if self.entries.get(name) != entry:
            self.entries[name] = entry
            self.dirty = True

    def save(self):
        if not self.dirty:
            return
        data = json.dumps({'format': MANIFEST_FORMAT, 'outputs': self.entries}, sort_keys=True, indent=1)
        try:
            with atomic_output(self.path) as handle:
                handle.write(data.encode('utf-8') + b'\n')
        except OSError as exc:
            raise JobError('cannot write the manifest: %s' % describe_os_error(exc, 'writing'))
        self.dirty = False


def _check_src(src):
    if not os.path.exists(src):
        raise JobError('src %s does not exist' % src)
    if not os.path.isdir(src):
        raise JobError('src %s is not a directory' % src)
    if not os.access(src, os.R_OK | os.X_OK):
        raise JobError('src %s is not readable (permission denied)' % src)


def _prepare_dest(dest, check_mode):
    """Return True when ``dest`` had to be (or, in check mode, would be) created."""
    if os.path.isdir(dest):
        if not check_mode and not os.access(dest, os.W_OK | os.X_OK):
            raise JobError('dest %s is not writable (permission denied)' % dest)
        return False
    if os.path.lexists(dest):
        raise JobError('dest %s exists and is not a directory' % dest)
    if check_mode:
        return True
    try:
        os.makedirs(dest)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise JobError('cannot create dest %s: no space left on device' % dest)
        raise JobError('cannot create dest %s: %s' % (dest, exc.strerror or exc))
    return True


def list_sources(src, patterns):
    """``(names, problems)``: the regular files in ``src`` (not hidden) matching any glob,
    case-insensitively, sorted; and ``{name: why}`` for matching names that cannot be sources
    (a symbolic link to nothing), which are reported, never skipped in silence."""
    globs = [pattern.lower() for pattern in patterns]
    names = []
    problems = {}
    try:
        with os.scandir(src) as entries:
            for entry in entries:
                if entry.name.startswith('.'):
                    continue
                lower = entry.name.lower()
                if not any(fnmatch.fnmatchcase(lower, glob) for glob in globs):
                    continue
                try:
                    if entry.is_file():
                        names.append(entry.name)
                    elif entry.is_symlink() and not os.path.exists(entry.path):
                        problems[entry.name] = 'a symbolic link to %s, which does not exist' % os.readlink(entry.path)
                except OSError as exc:
                    problems[entry.name] = 'cannot be read: %s' % (exc.strerror or exc)
    except OSError as exc:
        raise JobError('cannot list src %s: %s' % (src, exc.strerror or exc))
    return sorted(names), problems


def plan(src, dest, names, suffix, own_outputs=()):
    """Map source names to output names: ([(src name, output name)], {src name: error}).

    In place (``dest`` is ``src``), the files this job wrote itself (``own_outputs``, the
    manifest's names) are never sources, whatever the pattern matches.
    """
    same_dir = os.path.abspath(src) == os.path.abspath(dest) or (os.path.isdir(dest) and os.path.samefile(src, dest))
    if same_dir:
        names = [name for name in names if name not in own_outputs]
    outputs = {}
    for name in names:
        outputs.setdefault(os.path.splitext(name)[0] + suffix, []).append(name)
    pairs, errors = [], {}
    for name in names:
        out = os.path.splitext(name)[0] + suffix
        if same_dir and any(other != name for other in outputs.get(name, ())):
            continue  # an output of this job living next to its sources
        if same_dir and name == out:
            errors[name] = 'the output %s would overwrite its own source' % out
            continue
        first = outputs[out][0]
        if first != name:
            errors[name] = 'output name %s is already produced from %s' % (out, first)
            continue
        pairs.append((name, out))
    return pairs, errors


def _clean_stale_temporaries(dest, names):
    """Remove temporary files a killed run left behind for our outputs (and the manifest)."""
    prefixes = tuple('.%s.' % name for name in names) + ('.%s.' % MANIFEST,)
    try:
        candidates = [n for n in os.listdir(dest) if n.endswith('.tmp') and n.startswith(prefixes)]
    except OSError:
        return
    for name in candidates:
        try:
            os.unlink(os.path.join(dest, name))
        except OSError:
            pass


class _DestLock:
    """Exclusive flock on the dest directory: concurrent runs on one dest wait for each other."""

    def __init__(self, dest, enabled):
        self.dest = dest
        self.fd = None
        self.enabled = enabled and fcntl is not None

    def __enter__(self):
        if self.enabled:
            self.fd = os.open(self.dest, os.O_RDONLY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _diff(dest, results):
    before, after = [], []
    for item in results:
        if item['action'] != 'converted':
            continue
        name = os.path.basename(item['dest'])
        if item.get('before'):
            before.append('%s sha256:%s\n' % (name, item['before']))
        how = 'replaced' if item.get('before') else 'added'
        after.append('%s (%s from %s)\n' % (name, how, os.path.basename(item['src'])))
    return {'before_header': dest, 'after_header': dest, 'before': ''.join(before), 'after': ''.join(after)}


def convert_folder(
    src,
    dest,
    spec,
    patterns=DEFAULT_PATTERNS,
    suffix=None,
    workers=None,
    max_pixels=DEFAULT_MAX_PIXELS,
    check_mode=False,
    diff=False,
    shard=None,
):
    """Convert the folder. Returns ``(result, warnings)``; raises JobError for task-level problems.

    A non-empty ``result['errors']`` means some files could not be converted (the others are done).
    With ``shard`` (``{'index': i, 'count': n}``) only the sources of that shard are considered
    (see :func:`shard_of`); the plan (output names, collisions) is made over the whole folder
    first, so the shards of one folder together do exactly what one unsharded run does.
    """
    src = os.path.abspath(src)
    dest = os.path.abspath(dest)
    if suffix is None:
        suffix = FORMATS[spec.format][1]
    if '/' in suffix or '\0' in suffix or suffix in ('.', '..'):
        raise JobError(
            'the options are not usable', [error_entry('%r is not usable in a file name' % (suffix,), field='suffix')]
        )
    warnings = []
    _check_src(src)
    created = _prepare_dest(dest, check_mode)
    names, list_problems = list_sources(src, patterns)
    if not names and not list_problems:
        warnings.append('no file in %s matches %s' % (src, ', '.join(patterns)))
    manifest = Manifest(dest)
    if manifest.warning:
        warnings.append(manifest.warning)
    pairs, plan_errors = plan(src, dest, names, suffix, own_outputs=frozenset(manifest.entries))
    plan_errors.update(list_problems)
    others = 0
    if shard is not None:
        # Files of other shards are left alone: not converted, not reported, their outputs and
        # manifest entries untouched (a manifest entry is only ever set for a converted file).
        mine = [(name, out) for name, out in pairs if in_shard(name, shard)]
        mine_errors = {name: why for name, why in plan_errors.items() if in_shard(name, shard)}
        others = len(pairs) + len(plan_errors) - len(mine) - len(mine_errors)
        pairs, plan_errors = mine, mine_errors
        if not pairs and not plan_errors and names:
            warnings.append(
                'no file of %s is in shard %d of %d (%d in the other shards)'
                % (src, shard['index'], shard['count'], others)
            )

    spec_json = json.dumps(spec.as_dict(), sort_keys=True)
    results = [
        {
            'src': os.path.join(src, name),
            'dest': os.path.join(dest, os.path.splitext(name)[0] + suffix),
            'size': None,
            'action': 'failed',
            'error': error,
        }
        for name, error in plan_errors.items()
    ]

    with _DestLock(dest, enabled=not check_mode and os.path.isdir(dest)):
        if not check_mode:
            _clean_stale_temporaries(dest, [out for dummy, out in pairs])
        tasks = [
            (os.path.join(src, name), os.path.join(dest, out), spec_json, manifest.get(out), check_mode, max_pixels)
            for name, out in pairs
        ]
        state = {'flushed': time.monotonic()}

        def on_result(item):
            entry = item.pop('entry', None)
            if entry is not None and not check_mode:
                manifest.set(os.path.basename(item['dest']), entry)
                if time.monotonic() - state['flushed'] > _FLUSH_SECONDS:
                    # progress survives a kill: finished files are not converted again
                    manifest.save()
                    state['flushed'] = time.monotonic()
            results.append(item)

        run_tasks(tasks, workers or default_workers(), on_result)
        if not check_mode:
            manifest.save()
            # A worker killed mid-write (and retried) leaves its temporary file; every worker
            # has exited and the lock is still held, so none of them is in use any more.
            _clean_stale_temporaries(dest, [out for dummy, out in pairs])

    results.sort(key=lambda item: item['src'])
    counts = {'total': len(results), 'converted': 0, 'unchanged': 0, 'failed': 0}
    for item in results:
        counts[item['action']] += 1
    errors = [error_entry(item['error'], file=item['src']) for item in results if item['action'] == 'failed']
    result = {
        'changed': created or counts['converted'] > 0,
        'src': src,
        'dest': dest,
        'manifest': manifest.path,
        'counts': counts,
        'results': [
            {key: item.get(key) for key in ('src', 'dest', 'size', 'action', 'error') if key in item}
            for item in results
        ],
        'errors': errors,
    }
    if shard is not None:
        result['shard'] = {'index': shard['index'], 'count': shard['count'], 'other_shards': others}
    if diff:
        result['diff'] = _diff(dest, results)
    result['msg'] = _summary(counts, errors, dest, check_mode)
    return result, warnings


def _summary(counts, errors, dest, check_mode):
    converted = '%d would be converted' % counts['converted'] if check_mode else '%d converted' % counts['converted']
    text = '%s, %d unchanged' % (converted, counts['unchanged'])
    if errors:
        no_space = any('no space left' in error['message'] for error in errors)
        text = '%d of %d files could not be %s%s (%s)' % (
            len(errors),
            counts['total'],
            'checked' if check_mode else 'converted',
            ', no space left on device in %s' % dest if no_space else '',
            text,
        )
    return 'check mode (nothing written): ' + text if check_mode else text


def convert_images(options, check_mode=False, diff=False):
    """The job of ``storeops.shop.convert_images``: validate the options, convert the folder."""
    problems = []
    if options.get('workers') is not None and options['workers'] < 1:
        problems.append(error_entry('must be at least 1, got %d' % options['workers'], field='workers'))
    max_pixels = options.get('max_pixels')
    max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    if max_pixels < 1:
        problems.append(error_entry('must be at least 1, got %d' % max_pixels, field='max_pixels'))
    shard = options.get('shard')
    if shard is not None:
        index, count = shard.get('index'), shard.get('count')
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            problems.append(
                error_entry('count must be an integer of at least 1, got %r' % (count,), field='shard.count')
            )
        elif not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
            problems.append(
                error_entry(
                    'index must be an integer from 0 to count - 1 (%d), got %r' % (count - 1, index),
                    field='shard.index',
                )
            )
    try:
        spec = Spec(
            size=options.get('size'),
            fit=options.get('fit', 'contain'),
            rotate=options.get('rotate', 0),
            auto_orient=options.get('auto_orient', True),
            background=options.get('background', 'white'),
            output_format=options.get('format', 'jpeg'),
            quality=options.get('quality', 85),
            progressive=options.get('progressive', False),
        )
    except SpecError as exc:
        problems.append(error_entry(str(exc), field=exc.field))
    if problems:
        raise JobError('the options are not usable, nothing was converted', problems)
    return convert_folder(
        options['src'],
        options['dest'],
        spec,
        patterns=options.get('pattern') or DEFAULT_PATTERNS,
        suffix=options.get('suffix'),
        workers=options.get('workers'),
        max_pixels=max_pixels,
        check_mode=check_mode,
        diff=diff,
        shard=shard,
    )
