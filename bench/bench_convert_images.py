# Copyright (c) storeops.shop contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: storeops.shop.convert_images vs the course's naive loop, in the same run.

    .venv/bin/python bench/bench_convert_images.py [--workdir DIR] [--rounds 3] [--no-ansible]

1. Generates 40 supplier images (3000x2000 RGBA TIFF, photo-like: noise at several scales,
   sharp shapes, a feathered cut-out mask with the photo still hidden under the
   transparent pixels) and 500 icons (192x192 RGBA TIFF, anti-aliased black glyphs on
   transparent black like the course's Material icons, delivered rotated 90 degrees
   anti-clockwise), plus the same 500 icons in colours (no target, shown for comparison).
2. Converts both sets with the naive course loop (open -> convert('RGB') -> resize -> save,
   one process) and with the module's code path (``_convert_images.convert_folder``, 2 worker processes,
   including hashing, manifest and atomic writes), each in a fresh Python process,
   interleaved, best of ``--rounds``. Prints images/s both ways and the ratio, and the
   peak RSS of any worker process. In the same rounds, two ceilings:

   - the floor (supplier images): ``Image.open(f).reduce(5)`` of the same files, the integer
     factor 3000x2000 -> 600x400, in 2 processes (half the files each), nothing else: no
     hashing, flattening, encoding or writing. (A plain ``load()`` of an uncompressed TIFF is
     a memory map and costs nothing, so it is no floor.)
   - the module's own per-file work (``process_file``: read + SHA-256, convert, atomic write)
     split evenly over 2 forked processes, without the pool, batches, results or manifest:
     what the folder job costs on top of converting.
3. Quality: mean absolute difference of the module's pixels (before JPEG encoding) to a
   LANCZOS resize of the correctly flattened image; the naive loop's figure shows what
   dropping alpha does.
4. Ansible: one ``ansible localhost -m storeops.shop.convert_images`` call for the 500 icons
   vs a playbook ``loop:`` running one ``command`` per icon. The loop runs on 10 and 50
   icons; its per-file cost and start-up are fitted from the two runs and extrapolated to
   500 (printed as such).

Not a test: nothing fails on a slow machine. Bounded to about a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.ansible', 'collections'))

SUPPLIER_COUNT = 40
ICON_COUNT = 500
WORKERS = 2

NAIVE_SUPPLIER = '''
for f in files:
    im = Image.open(f)
    im.convert('RGB').resize((600, 400)).save(os.path.join(out, os.path.splitext(os.path.basename(f))[0] + '.jpeg'), 'JPEG')
'''
NAIVE_ICON = '''
for f in files:
    im = Image.open(f)
    im.rotate(-90).resize((128, 128)).convert('RGB').save(os.path.join(out, os.path.splitext(os.path.basename(f))[0] + '.jpeg'), 'JPEG')
'''


# --- test data -------------------------------------------------------------------------


def photo(size, seed):
    """A photo-like RGB image: smooth colour fields, mid-scale texture, grain and sharp shapes."""
    from PIL import Image, ImageChops, ImageDraw

    rnd = random.Random(seed)
    random.seed(seed)  # effect_noise uses the C library's generator; the content only needs to vary
    width, height = size
    channels = []
    for dummy in range(3):
        big = Image.effect_noise((max(1, width // 64), max(1, height // 64)), 60).resize(size, Image.Resampling.BICUBIC)
        mid = Image.effect_noise((max(1, width // 8), max(1, height // 8)), 30).resize(size, Image.Resampling.BICUBIC)
        fine = Image.effect_noise(size, 12)
        channels.append(ImageChops.add(ImageChops.add(big, mid, 2.0, -64), fine, 1.0, -128))
    img = Image.merge('RGB', channels)
    draw = ImageDraw.Draw(img)
    for dummy in range(40):
        x0, y0 = rnd.randrange(width), rnd.randrange(height)
        x1, y1 = x0 + rnd.randrange(10, max(11, width // 3)), y0 + rnd.randrange(10, max(11, height // 3))
        colour = tuple(rnd.randrange(256) for dummy in range(3))
        if rnd.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=rnd.randrange(1, 6))
    return img


def cutout_mask(size, seed):
    """Product cut-out: an opaque blob with a feathered edge on a transparent background."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)
    width, height = size
    mask = Image.new('L', size, 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse(
        (
            rnd.randrange(width // 10, width // 4),
            rnd.randrange(height // 10, height // 4),
            width - rnd.randrange(width // 10, width // 4),
            height - rnd.randrange(height // 10, height // 4),
        ),
        fill=255,
    )
    draw.rectangle((width // 3, height // 2, width // 3 * 2, height - height // 12), fill=255)
    return mask.filter(ImageFilter.BoxBlur(6))


def make_supplier(directory, count):
    from PIL import ImageChops

    os.makedirs(directory, exist_ok=True)
    bases = [photo((3000, 2000), seed) for seed in range(4)]
    for i in range(count):
        im = ImageChops.offset(bases[i % 4], 97 * i, 61 * i)
        im.putalpha(cutout_mask(im.size, i))
        im.save(os.path.join(directory, '%03d.tif' % (i + 1)))


def make_icons(directory, count, coloured):
    """Location-pin glyphs with anti-aliased edges on transparent black, rotated 90 degrees anti-clockwise.

    Not coloured: black glyphs, as the course's Material icons (``ic_edit_location_black_48dp``).
    """
    from PIL import Image, ImageDraw

    os.makedirs(directory, exist_ok=True)
    rnd = random.Random(7)
    for i in range(count):
        shape = Image.new('L', (768, 768), 0)  # drawn 4x and scaled down: soft edges, like real icons
        draw = ImageDraw.Draw(shape)
        draw.ellipse((160 + 4 * rnd.randrange(10), 96, 608, 544 - 4 * rnd.randrange(10)), fill=255)
        draw.polygon([(384, 736), (224, 440), (544, 440)], fill=255)
        draw.ellipse((312, 248, 456, 392), fill=0)
        alpha = shape.resize((192, 192), Image.Resampling.LANCZOS)
        colour = (rnd.randrange(200), rnd.randrange(200), rnd.randrange(200)) if coloured else (0, 0, 0)
        im = Image.new('RGBA', (192, 192), (0, 0, 0, 0))
        im.paste(colour + (255,), (0, 0), alpha)
        im.rotate(90).save(os.path.join(directory, 'ic_%03d.tif' % i))


# --- one timed run, in a fresh interpreter -----------------------------------------------


def child_naive(kind, src, out):
    from PIL import Image

    files = sorted(os.path.join(src, name) for name in os.listdir(src))
    os.makedirs(out, exist_ok=True)
    code = NAIVE_SUPPLIER if kind == 'supplier' else NAIVE_ICON
    cpu = cpu_seconds()
    start = time.perf_counter()
    exec(code, {'files': files, 'out': out, 'Image': Image, 'os': os})  # pylint: disable=exec-used
    elapsed = time.perf_counter() - start
    print(json.dumps({'seconds': elapsed, 'cpu': cpu_seconds() - cpu, 'files': len(files), 'peak_kb': own_peak_kb()}))


def own_peak_kb():
    """Peak RSS of this process. VmHWM, because ru_maxrss survives exec() and would report the benchmark's own peak."""
    try:
        with open('/proc/self/status') as handle:
            for line in handle:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


SIZES = {'supplier': (600, 400), 'icons': (128, 128), 'coloured': (128, 128)}


def module_spec(kind):
    from ansible_collections.storeops.shop.plugins.module_utils._convert_images import Spec

    return Spec(size=list(SIZES[kind])) if kind == 'supplier' else Spec(size=list(SIZES[kind]), rotate=90)


def child_module(kind, src, out):
    from ansible_collections.storeops.shop.plugins.module_utils._convert_images import convert_folder

    spec = module_spec(kind)
    cpu = cpu_seconds()
    start = time.perf_counter()
    result, dummy = convert_folder(src, out, spec, workers=WORKERS)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                'seconds': elapsed,
                'cpu': cpu_seconds() - cpu,
                'files': result['counts']['total'],
                'converted': result['counts']['converted'],
                'failed': result['counts']['failed'],
                'peak_kb': peak,
            }
        )
    )


def in_processes(work, items):
    """Run ``work(part)`` in WORKERS forked processes, items[k::WORKERS] each: (seconds, CPU seconds)."""
    cpu = cpu_seconds()
    start = time.perf_counter()
    pids = []
    for k in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                work(items[k::WORKERS])
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    failed = [pid for pid in pids if os.waitpid(pid, 0)[1] != 0]
    elapsed = time.perf_counter() - start
    if failed:
        raise RuntimeError('%d of %d processes failed' % (len(failed), WORKERS))
    return elapsed, cpu_seconds() - cpu


def child_floor(kind, src, out):
    """open + reduce() by the integer factor, in WORKERS processes, nothing else."""
    from PIL import Image

    Image.init()  # the plugins, imported before the clock starts: this is a floor
    files = sorted(os.path.join(src, name) for name in os.listdir(src))
    with Image.open(files[0]) as first:
        factor = min(first.size[0] // SIZES[kind][0], first.size[1] // SIZES[kind][1])

    def work(part):
        for name in part:
            with Image.open(name) as im:
                im.reduce(factor)

    elapsed, cpu = in_processes(work, files)
    print(json.dumps({'seconds': elapsed, 'cpu': cpu, 'files': len(files), 'factor': factor}))


def child_split(kind, src, out):
    """The module's per-file work (process_file) split evenly over WORKERS processes: no pool, batches or manifest."""
    from ansible_collections.storeops.shop.plugins.module_utils import _convert_images as job

    spec = module_spec(kind)
    spec_json = json.dumps(spec.as_dict(), sort_keys=True)
    os.makedirs(out, exist_ok=True)
    files = sorted(os.path.join(src, name) for name in os.listdir(src))
    tasks = [
        (
            name,
            os.path.join(out, os.path.splitext(os.path.basename(name))[0] + '.jpeg'),
            spec_json,
            None,
            False,
            job.DEFAULT_MAX_PIXELS,
        )
        for name in files
    ]

    def work(part):
        # as in a pool worker: big files are memory-mapped
        job._WORKER['in_pool'] = True  # pylint: disable=protected-access
        for task in part:
            if job.process_file(task)['action'] != 'converted':
                raise RuntimeError(task[0])

    job.warm_up()  # before the clock starts (the module does it inside): this is a ceiling
    elapsed, cpu = in_processes(work, tasks)
    print(json.dumps({'seconds': elapsed, 'cpu': cpu, 'files': len(files)}))


def cpu_seconds():
    """CPU time of this process and its waited-for children (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(way, kind, src, out):
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), '--child', way, kind, src, out],
        check=True,
        stdout=subprocess.PIPE,
        universal_newlines=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def met(ok):
    return 'met' if ok else 'NOT met'


# --- quality ----------------------------------------------------------------------------


def mean_abs_diff(a, b):
    from PIL import ImageChops

    hist = ImageChops.difference(a, b).histogram()
    total = a.size[0] * a.size[1] * len(a.getbands())
    return sum((i % 256) * n for i, n in enumerate(hist)) / float(total)


def quality(src_dir, icons=False, count=4):
    """(worst module MAD, best naive MAD) against LANCZOS of the flattened (and, for icons, rotated) image."""
    from PIL import Image
    from ansible_collections.storeops.shop.plugins.module_utils import _image_convert as pipeline

    size = (128, 128) if icons else (600, 400)
    spec = pipeline.Spec(size=list(size), rotate=90 if icons else 0)
    ours, naive = [], []
    for name in sorted(os.listdir(src_dir))[:count]:
        path = os.path.join(src_dir, name)
        with Image.open(path) as im:
            im.load()
            upright = im.rotate(-90) if icons else im
            reference = pipeline.flatten(upright, (255, 255, 255)).resize(size, Image.Resampling.LANCZOS)
            course = upright.resize(size).convert('RGB') if icons else upright.convert('RGB').resize(size)
            naive.append(mean_abs_diff(course, reference))
        with pipeline.Source(path) as source:
            dummy_size, names = source.plan(spec)
            ours.append(mean_abs_diff(pipeline.render(source.for_render(), spec, names).convert('RGB'), reference))
    return max(ours), min(naive)


# --- ansible ----------------------------------------------------------------------------

PLAYBOOK = '''- name: Naive per-file conversion loop
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Convert one icon per task
      ansible.builtin.command:
        argv: ["{{ ansible_playbook_python }}", "-c", "{{ code }}", "{{ item }}", "{{ out }}"]
      loop: "{{ files }}"
      changed_when: true
'''
ONE_FILE = (
    "import sys, os; from PIL import Image; f, out = sys.argv[1:]; "
    "Image.open(f).rotate(-90).resize((128, 128)).convert('RGB')"
    ".save(os.path.join(out, os.path.splitext(os.path.basename(f))[0] + '.jpeg'), 'JPEG')"
)


def ansible_env():
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCALHOST_WARNING='false',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
    )
    return env


def run_ansible(args):
    start = time.perf_counter()
    proc = subprocess.run(
        args,
        cwd=ROOT,
        env=ansible_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        universal_newlines=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError('%s failed:\n%s' % (' '.join(args[:3]), proc.stdout[-3000:]))
    return elapsed


def ansible_compare(work, icons):
    bindir = os.path.dirname(sys.executable)
    common = ['-i', 'localhost,', '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable]
    out = os.path.join(work, 'ansible-module')
    shutil.rmtree(out, ignore_errors=True)  # a fresh conversion, not an idempotent re-run
    module_s = run_ansible(
        [os.path.join(bindir, 'ansible'), 'localhost']
        + common
        + [
            '-m',
            'storeops.shop.convert_images',
            '-a',
            'src=%s dest=%s size=128,128 rotate=90 workers=%d' % (icons, out, WORKERS),
        ]
    )
    playbook = os.path.join(work, 'loop.yml')
    with open(playbook, 'w') as handle:
        handle.write(PLAYBOOK)
    names = sorted(os.listdir(icons))
    loop = {}
    for count in (10, 50):
        out = os.path.join(work, 'ansible-loop-%d' % count)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        extra = json.dumps({'files': [os.path.join(icons, n) for n in names[:count]], 'out': out, 'code': ONE_FILE})
        loop[count] = run_ansible([os.path.join(bindir, 'ansible-playbook'), playbook] + common + ['-e', extra])
    per_file = (loop[50] - loop[10]) / 40.0
    startup = max(0.0, loop[10] - 10 * per_file)
    return module_s, loop, per_file, startup


# --- main -------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--workdir', help='where to put the generated images (default: a temporary folder, removed)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--no-ansible', action='store_true', help='skip the ansible / ansible-playbook comparison')
    parser.add_argument(
        '--kinds',
        nargs='+',
        default=['supplier', 'icons', 'coloured'],
        choices=['supplier', 'icons', 'coloured'],
        help='image sets to time (default: all)',
    )
    parser.add_argument('--child', nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        way, kind, src, out = args.child
        {'naive': child_naive, 'module': child_module, 'floor': child_floor, 'split': child_split}[way](kind, src, out)
        return 0

    work = args.workdir or tempfile.mkdtemp(prefix='bench-convert-images-')
    os.makedirs(work, exist_ok=True)
    supplier, icons = os.path.join(work, 'supplier'), os.path.join(work, 'icons')
    coloured = os.path.join(work, 'icons-coloured')
    try:
        start = time.perf_counter()
        if not os.path.isdir(supplier):
            make_supplier(supplier, SUPPLIER_COUNT)
        if not os.path.isdir(icons):
            make_icons(icons, ICON_COUNT, coloured=False)
        if not os.path.isdir(coloured):
            make_icons(coloured, ICON_COUNT, coloured=True)
        for directory in (supplier, icons, coloured):  # warm the page cache for both contenders
            for name in os.listdir(directory):
                with open(os.path.join(directory, name), 'rb') as handle:
                    while handle.read(1 << 20):
                        pass
        print(
            'generated %d supplier images (3000x2000 RGBA TIFF) and 2 x %d icons (192x192 RGBA TIFF; black as the '
            "course's, and coloured) in %.1f s" % (SUPPLIER_COUNT, ICON_COUNT, time.perf_counter() - start)
        )
        print(
            'cpus: %d, module workers: %d, rounds: %d (best round reported), load average before: %.2f'
            % (os.cpu_count() or 0, WORKERS, args.rounds, os.getloadavg()[0])
        )
        print()
        kinds = [k for k in (('supplier', supplier), ('icons', icons), ('coloured', coloured)) if k[0] in args.kinds]
        for kind, src in kinds:
            ways = ('naive', 'module', 'floor', 'split') if kind == 'supplier' else ('naive', 'module', 'split')
            best = dict.fromkeys(ways)
            peak = 0
            load_before = os.getloadavg()[0]
            for dummy in range(args.rounds):
                for way in ways:
                    run = timed(way, kind, src, os.path.join(work, 'out-%s-%s' % (kind, way)))
                    if way == 'module':
                        peak = max(peak, run['peak_kb'])
                        if run['failed'] or run['converted'] != run['files']:
                            raise RuntimeError('module run did not convert everything: %r' % run)
                    if best[way] is None or run['seconds'] < best[way]['seconds']:
                        best[way] = run
            rate = {way: best[way]['files'] / best[way]['seconds'] for way in ways}
            ratio = rate['module'] / rate['naive']
            if kind == 'supplier':
                verdict = 'target >= 3.0x: %s' % met(ratio >= 3.0)
            elif kind == 'icons':
                verdict = 'targets: >= 2.5x on a quiet machine: %s, >= 2.2x under load: %s' % (
                    met(ratio >= 2.5),
                    met(ratio >= 2.2),
                )
            else:
                verdict = 'no target'
            print(
                '%-9s naive loop (1 process): %7.1f images/s   module (%d workers): %7.1f images/s   ratio %.2fx  (%s)'
                % (kind, rate['naive'], WORKERS, rate['module'], ratio, verdict)
            )
            if 'floor' in ways:
                floor = rate['module'] / rate['floor']
                print(
                    '%-9s floor, open + reduce(%d) in %d processes, nothing else: %7.1f images/s   module/floor %.2fx  '
                    '(target >= 0.85x: %s)'
                    % ('', best['floor']['factor'], WORKERS, rate['floor'], floor, met(floor >= 0.85))
                )
            print(
                '%-9s ceiling, its per-file work split evenly over %d processes (no pool, batches, manifest): %7.1f images/s'
                '   module/ceiling %.2fx' % ('', WORKERS, rate['split'], rate['module'] / rate['split'])
            )
            naive_cpu = 1000 * best['naive']['cpu'] / best['naive']['files']
            module_cpu = 1000 * best['module']['cpu'] / best['module']['files']
            split_cpu = 1000 * best['split']['cpu'] / best['split']['files']
            print(
                '%-9s CPU per image: naive %.2f ms, module %.2f ms (all its processes; per-file work alone %.2f ms); with %d '
                'idle cores the ratio would be about %.1fx (estimate)'
                % ('', naive_cpu, module_cpu, split_cpu, WORKERS, WORKERS * naive_cpu / module_cpu)
            )
            print(
                '%-9s peak RSS of any module worker: %.0f MB (naive process: %.0f MB); load average %.2f before, %.2f after'
                % ('', peak / 1024.0, best['naive']['peak_kb'] / 1024.0, load_before, os.getloadavg()[0])
            )
        print()
        print('quality: mean abs difference to a LANCZOS resize of the correctly flattened image (0-255), worst of 4:')
        for kind, src, hidden in (
            ('supplier', supplier, 'the hidden photo shows'),
            ('icons', icons, 'black on black'),
            ('coloured', coloured, 'glyph on black'),
        ):
            if kind not in args.kinds:
                continue
            ours, naive = quality(src, icons=kind != 'supplier')
            print(
                '%-9s module %.2f (target < 2: %s)   naive loop %.2f (alpha dropped: %s)'
                % (kind, ours, 'met' if ours < 2 else 'NOT met', naive, hidden)
            )
        if not args.no_ansible:
            module_s, loop, per_file, startup = ansible_compare(work, icons)
            loop_500 = startup + ICON_COUNT * per_file
            print()
            print('ansible, %d icons:' % ICON_COUNT)
            print(
                '          one task   ansible localhost -m storeops.shop.convert_images: %6.1f s (measured)' % module_s
            )
            print(
                '          loop:      one command task per file: 10 files %.1f s, 50 files %.1f s (measured)'
                % (loop[10], loop[50])
            )
            print(
                '                     fitted: %.0f ms per file + %.1f s start-up -> %d files ~ %.1f s (extrapolated)'
                % (per_file * 1000, startup, ICON_COUNT, loop_500)
            )
            print(
                '          ratio %.1fx (target >= 10x: %s)'
                % (loop_500 / module_s, 'met' if loop_500 / module_s >= 10 else 'NOT met')
            )
        print()
        print('load average after: %.2f (other work on the machine slows the 2-worker runs most)' % os.getloadavg()[0])
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
