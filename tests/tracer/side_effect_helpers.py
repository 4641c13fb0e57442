"""Helpers a compiled step calls, whose side effects land in this module's own state (not
reachable through the step's names): tests/tracer/test_helper_side_effects.py."""
LOG = []
HISTORY = []
KEPT = []
COUNTS = {}
CALLS = 0


class Meter:
    def __init__(self):
        self.count = 0
        self.seen = []

    def update(self, tag):
        self.seen.append(tag)


METER = Meter()


def record(tag):
    LOG.append(tag)


def record_nested(tag):
    record(tag)


def keep(x):
    HISTORY.append(x.detach())


def keep_outside(w):
    KEPT.append(w)


def count():
    global CALLS
    CALLS += 1


def tally(key):
    COUNTS[key] = "seen"


def tick():
    METER.count += 1


def note(tag):
    METER.update(tag)


def stamp():
    METER.last = "stamped"


def reset():
    global CALLS
    LOG.clear()
    HISTORY.clear()
    KEPT.clear()
    COUNTS.clear()
    CALLS = 0
    METER.count = 0
    METER.seen.clear()
    METER.__dict__.pop("last", None)


def state():
    return (list(LOG), [x.detach().numpy().tolist() for x in HISTORY + KEPT], dict(COUNTS), CALLS,
            METER.count, list(METER.seen), getattr(METER, "last", None))


WEIGHT = None


def project(x):
    return (x * WEIGHT).sum()
