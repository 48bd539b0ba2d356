"""The expression evaluator follows GitHub's semantics where deploy.yml relies on them."""

from __future__ import annotations

from tests.helpers.gh_expressions import evaluate


def test_expression_evaluator_follows_github_semantics() -> None:
    ctx = {
        "needs": {
            "a": {"result": "success", "outputs": {}},
            "b": {"result": "failure", "outputs": {"x": "4"}},
        }
    }
    always = {"always": lambda: True, "success": lambda: False}
    assert evaluate("always() && needs.a.outputs.x == ''", ctx, always)
    assert not evaluate("always() && needs.b.outputs.x != '4'", ctx, always)
    assert evaluate("always() && contains(needs.*.result, 'FAILURE')", ctx, always)
    assert not evaluate("needs.a.result == 'success'", ctx, always), "implicit success()"
    assert evaluate("always() && (!(needs.a.result == 'x') || false)", ctx, always)
