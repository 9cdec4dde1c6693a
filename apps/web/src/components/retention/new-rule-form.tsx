"use client";
import { useState } from "react";
import { previewRetentionAction, saveRetentionRuleAction } from "@/actions/retention";
import { DataTable } from "@/components/ui/data-table";
import { Field, FormMessage, SelectField, useActionForm } from "@/components/ui/form";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import { RETENTION_KINDS, ZRetentionRuleFormSchema, type TRetentionKind } from "@/lib/retention-forms";

/**
 * A rule is previewed before it can be saved: the list is what the worker's run would delete
 * now. Changing the rule after a preview asks for a new one.
 */
export function NewRuleForm({ project }: { project: string }) {
  const [kind, setKind] = useState<TRetentionKind>("older_than_days");
  const [value, setValue] = useState("30");
  const preview = useActionForm(previewRetentionAction, ZRetentionRuleFormSchema);
  const save = useActionForm(saveRetentionRuleAction);
  const shown = preview.state?.ok ? preview.state.data : undefined;
  const current = shown && shown.rule.kind === kind && String(shown.rule.value) === value.trim() ? shown : undefined;
  return (
    <div className="card-body">
      <form onSubmit={preview.onSubmit} noValidate className="filters" style={{ padding: 0, border: 0 }}>
        <input type="hidden" name="project" value={project} />
        <SelectField
          label="Rule"
          name="kind"
          defaultValue={kind}
          onChange={(next) => setKind(next as TRetentionKind)}
          options={Object.entries(RETENTION_KINDS).map(([key, entry]) => ({ value: key, label: entry.label }))}
          error={preview.errors.kind}
        />
        <Field
          label={`N (${RETENTION_KINDS[kind].unit})`}
          name="value"
          type="number"
          min={1}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          error={preview.errors.value}
        />
        <button type="submit" className="btn" disabled={preview.pending}>
          {preview.pending ? "Listing…" : "Preview"}
        </button>
      </form>
      <FormMessage state={preview.state?.ok ? null : preview.state} />
      {current ? (
        <section aria-labelledby="preview-title" style={{ marginTop: 12 }}>
          <h3 id="preview-title">
            This rule deletes {formatCount(current.preview.total, "session")} now ({formatCount(current.preview.files, "file")},{" "}
            {formatBytes(current.preview.bytes)})
          </h3>
          {current.preview.sessions.length > 0 ? (
            <DataTable
              label="Sessions the rule deletes"
              rows={current.preview.sessions}
              rowKey={(s) => String(s.id)}
              columns={[
                { header: "Session", primary: true, cell: (s) => `#${s.id} ${s.name}` },
                { header: "Device", className: "mono", cell: (s) => s.device },
                { header: "Ended", className: "nowrap", cell: (s) => (s.endedAt ? <Time value={s.endedAt} /> : "—") },
                { header: "Files", className: "num", cell: (s) => formatNumber(s.files) },
                { header: "Size", className: "num nowrap", cell: (s) => formatBytes(s.bytes) },
              ]}
            />
          ) : null}
          {current.preview.total > current.preview.sessions.length ? (
            <p className="muted">The first {formatNumber(current.preview.sessions.length)} are listed.</p>
          ) : null}
          <form onSubmit={save.onSubmit} style={{ marginTop: 12 }}>
            <input type="hidden" name="project" value={project} />
            <input type="hidden" name="kind" value={current.rule.kind} />
            <input type="hidden" name="value" value={current.rule.value} />
            <FormMessage state={save.state} />
            <button type="submit" className="btn btn-primary" disabled={save.pending || save.state?.ok}>
              Save rule
            </button>
          </form>
        </section>
      ) : shown ? (
        <p className="muted">The rule changed since the preview: preview it again before saving.</p>
      ) : null}
    </div>
  );
}
