"""The plan as staff read it: one line per article, then totals against the usable budget."""

from __future__ import annotations

from infopack.plan.planner import Plan


def format_plan(plan: Plan) -> str:
    """The plan as a table: one line per article, then totals against the usable budget."""
    budget = plan.budget
    header = f"plan for {plan.content_dir} on {budget.label}: {budget.nominal_bytes:,} bytes nominal, {budget.usable_bytes:,} usable (90 %)"
    columns = ["slug", "priority", "action", "at default", "planned"] + (["volume"] if plan.split else [])
    rows = [columns]
    for article in plan.articles:
        planned = f"{article.planned_bytes:,}" if article.kept else "-"
        if article.kept and article.media_level != "default" and article.default_bytes:
            planned += f" ({article.planned_bytes / article.default_bytes - 1:+.0%})"
        row = [article.slug, str(article.priority), article.action, f"{article.default_bytes:,}", planned]
        rows.append(row + ([str(article.volume) if article.kept else "-"] if plan.split else []))
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    numeric = {1, 3, 4, 5}
    lines = [header, ""]
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines + [""] + plan_summary(plan))


def plan_summary(plan: Plan) -> list[str]:
    usable = plan.budget.usable_bytes
    kept = plan.kept
    reduced = sum(1 for a in kept if a.media_level != "default")
    lines = [f"viewer, indexes, manifest: {plan.fixed_bytes:,} bytes per bundle"]
    for number, total in enumerate(plan.volume_bytes, start=1):
        name = f"volume {number} of {plan.volumes}" if plan.split else "total"
        count = sum(1 for a in kept if a.volume == number)
        lines.append(f"{name}: {total:,} of {usable:,} usable bytes ({total / usable:.0%}), {count} articles")
    left_out = len(plan.articles) - len(kept)
    lines.append(f"keep {len(kept) - reduced}, reduce {reduced}, leave out {left_out} of {len(plan.articles)} articles")
    return lines
