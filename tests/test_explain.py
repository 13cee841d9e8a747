"""`bpcheck explain`: the chain rule in the post's notation, each factor's value per backend."""

from __future__ import annotations

from bpcheck.cli import main


def explain(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_dE_total_dw5_like_the_post(capsys):
    code, out, _ = explain(capsys, "dE_total/dw5", "--backend", "reference,numpy")
    assert code == 0
    assert "dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5" in out
    post = next(line for line in out.splitlines() if line.startswith("post "))
    assert post.split(None, 1)[1] == "dE_total/dw5 = 0.74136507 * 0.186815602 * 0.593269992 = 0.082167041"
    rows = {line.split()[0]: line for line in out.splitlines() if " = 0.741365069552 * " in line}
    assert set(rows) == {"exact", "reference", "numpy"}
    assert "ULPs from exact" in rows["numpy"]
    assert "dnet_o1/dw5 = out_h1" in out  # where each factor comes from


def test_forward_and_update_lines(capsys):
    _, out, _ = explain(capsys, "net_h1", "--backend", "numpy")
    assert "net_h1 = w1 * i1 + w2 * i2 + b1 * 1" in out  # w2, not the text's erratum w3
    assert "net_h1 = 0.15 * 0.05 + 0.2 * 0.1 + 0.35 * 1 = 0.3775" in out
    _, out, _ = explain(capsys, "b1+", "--backend", "numpy")
    assert "updates no biases" in out


def test_unknown_quantity_is_a_one_line_error(capsys):
    code, _, err = explain(capsys, "dE_total/dw9")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "did you mean dE_total/dw8" in err


def test_a_misspelt_name_gets_did_you_mean_not_every_name(capsys):
    code, _, err = explain(capsys, "dE_totl/dw5")
    assert code == 2 and "did you mean dE_total/dw5" in err
    assert "net_h1" not in err  # not the 63 valid names


def test_the_formula_lines_align_whatever_the_backend_names(capsys):
    _, out, _ = explain(capsys, "dE_total/dw5", "--backend", "reference,torch-func")
    rows = [line for line in out.splitlines() if line.split(" ", 1)[0] in ("post", "exact", "reference", "torch-func")]
    starts = {line.index("dE_total/dw5 =") for line in rows}
    assert len(rows) == 4 and len(starts) == 1, rows
