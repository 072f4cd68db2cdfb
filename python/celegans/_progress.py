"""Progress of long calls (dataset generation, training) where the user looks: a tqdm bar
when tqdm is installed (in notebooks, its widget), else a line on stderr."""
import sys


class Progress:
    """A callable ``(done, total)`` for the native long calls; use as a context manager."""

    def __init__(self, what, enabled=True):
        self.what, self.enabled = what, enabled
        self.bar, self.last = None, -1

    def __call__(self, done, total):
        if not self.enabled or total <= 0:
            return
        if self.bar is None:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            self.bar = tqdm(total=total, desc=self.what) if tqdm else False
        if self.bar:
            self.bar.update(done - self.bar.n)
            return
        percent = 100 * done // total
        if percent != self.last:
            self.last = percent
            end = "\n" if done >= total else ""
            print(f"\r{self.what}: {done}/{total} ({percent}%)", end=end, file=sys.stderr,
                  flush=True)

    def __enter__(self):
        return self if self.enabled else None

    def __exit__(self, *exc):
        if self.bar:
            self.bar.close()
        elif self.enabled and self.last not in (-1, 100):
            print(file=sys.stderr)
