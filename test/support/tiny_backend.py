# A minimal PEP 517 build backend for the pip-layer tests (served as a wheel by test/support/pypi-index.ts):
# it builds a wheel from an sdist holding PKG-INFO and a src/ tree, every file under src/ at the wheel's
# root, entries sorted and dated from SOURCE_DATE_EPOCH (default 1980-01-01). An sdist with a file NATIVE
# gets a CPython platform tag and an extension module, as a compiled package would. Each call is
# appended to $TINY_BACKEND_LOG when it is set, so a test can count the builds.
import base64
import hashlib
import os
import sys
import time
import zipfile


def _log(what):
    log = os.environ.get('TINY_BACKEND_LOG')
    if log:
        with open(log, 'a') as handle:
            handle.write(what + '\n')


def _metadata():
    with open('PKG-INFO', encoding='utf-8') as handle:
        text = handle.read()
    fields = dict(line.split(': ', 1) for line in text.splitlines() if ': ' in line)
    return text, fields['Name'], fields['Version']


def _tag():
    if os.path.exists('NATIVE'):
        version = 'cp%d%d' % sys.version_info[:2]
        return '%s-%s-linux_x86_64' % (version, version), False
    return 'py3-none-any', True


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info(name, version):
    return '%s-%s.dist-info' % (name.replace('-', '_'), version)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _log('metadata')
    text, name, version = _metadata()
    dist_info = _dist_info(name, version)
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    with open(os.path.join(metadata_directory, dist_info, 'METADATA'), 'w', encoding='utf-8') as handle:
        handle.write(text)
    return dist_info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _log('build_wheel')
    text, name, version = _metadata()
    tag, pure = _tag()
    dist_info = _dist_info(name, version)
    files = []
    for base, dirs, names in os.walk('src'):
        dirs.sort()
        for entry in sorted(names):
            full = os.path.join(base, entry)
            with open(full, 'rb') as handle:
                files.append((os.path.relpath(full, 'src').replace(os.sep, '/'), handle.read()))
    if not pure:
        files.append((name.replace('-', '_') + '/_speedups.cpython-%d%d-x86_64-linux-gnu.so' % sys.version_info[:2], b'\x7fELF not really'))
    files.append((dist_info + '/METADATA', text.encode('utf-8')))
    files.append((dist_info + '/WHEEL', ('Wheel-Version: 1.0\nGenerator: tiny_backend\nRoot-Is-Purelib: %s\nTag: %s\n' % ('true' if pure else 'false', tag)).encode()))
    record = ''.join('%s,sha256=%s,%d\n' % (path, base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode(), len(data)) for path, data in files)
    files.append((dist_info + '/RECORD', (record + dist_info + '/RECORD,,\n').encode()))
    stamp = time.gmtime(max(int(os.environ.get('SOURCE_DATE_EPOCH', '315532800')), 315532800))[:6]
    filename = '%s-%s-%s.whl' % (name.replace('-', '_'), version, tag)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), 'w', zipfile.ZIP_DEFLATED) as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, stamp)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return filename
