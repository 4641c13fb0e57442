"""Print the README's corpus table from corpus.py: `python -m tests.real.table`."""
from tests.real.corpus import CORPUS


def status(reason):
    return "xfail" if reason else "pass"


def row(e):
    interp, cpu = e.eager or e.compiled_reason("interpret"), e.eager or e.compiled_reason("cpu")
    if e.eager:
        blockers = [e.eager]
    elif interp == cpu:
        blockers = [interp] if interp else []
    else:
        blockers = [f"{b}: {r}" for b, r in (("interpret", interp), ("cpu", cpu)) if r]
    traces = "" if e.traces is None else str(e.traces)
    return (f"| {e.name} | {e.source} | {status(e.eager)} | {status(interp)} / {status(cpu)} | "
            f"{traces} | {'; '.join(blockers)} |")


def main():
    print("| program | source | eager | compiled (interpret / cpu) | traces | blocked by |")
    print("| --- | --- | --- | --- | --- | --- |")
    for e in CORPUS:
        print(row(e))
    n = len(CORPUS)
    eager = sum(not e.eager for e in CORPUS)
    both = sum(not (e.eager or e.compiled_reason("interpret") or e.compiled_reason("cpu"))
               for e in CORPUS)
    print(f"\n{n} programs: {eager} match PyTorch eagerly, {both} also compiled on both backends.")


if __name__ == "__main__":
    main()
