"use client";
import { useState } from "react";
import { previewRetentionAction, saveRetentionRuleAction } from "@/actions/retention";
import { DataTable } from "@/components/ui/data-table";
import { Field, FormMessage, SelectField, useActionForm } from "@/components/ui/form";
import { Time } from "@/components/ui/time";
import { formatBytes, formatCount, formatNumber } from "@/lib/format";
import { RETENTION_KINDS, ZRetentionRuleFormSchema, type TRetentionKind } from "@/lib/retention-forms";

const SESSIONS = "";

/**
 * A rule is previewed before it can be saved: the list is what the worker's run would delete
 * now. Changing the rule after a preview asks for a new one. `stores`: the per-device named
 * stores a rule can apply to instead of the sessions.
 */
export function NewRuleForm({ project, stores }: { project: string; stores: string[] }) {
  const [kind, setKind] = useState<TRetentionKind>("older_than_days");
  const [value, setValue] = useState("30");
  const [store, setStore] = useState(SESSIONS);
  const preview = useActionForm(previewRetentionAction, ZRetentionRuleFormSchema);
  const save = useActionForm(saveRetentionRuleAction);
  const shown = preview.state?.ok ? preview.state.data : undefined;
  const current =
    shown && shown.rule.kind === kind && String(shown.rule.value) === value.trim() && shown.rule.store === store ? shown : undefined;
  const preview_ = current?.preview;
  return (
    <div className="card-body">
      <form onSubmit={preview.onSubmit} noValidate className="filters" style={{ padding: 0, border: 0 }}>
        <input type="hidden" name="project" value={project} />
        <SelectField
          label="Applies to"
          name="store"
          defaultValue={store}
          onChange={setStore}
          options={[
            { value: SESSIONS, label: "Sessions" },
            ...stores.map((name) => ({ value: name, label: `The ${name} store (objects in device folders)` })),
          ]}
          error={preview.errors.store}
        />
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
      {current && preview_ ? (
        <section aria-labelledby="preview-title" style={{ marginTop: 12 }}>
          {preview_.target === "sessions" ? (
            <>
              <h3 id="preview-title">
                This rule deletes {formatCount(preview_.total, "session")} now ({formatCount(preview_.files, "file")},{" "}
                {formatBytes(preview_.bytes)})
              </h3>
              {preview_.sessions.length > 0 ? (
                <DataTable
                  label="Sessions the rule deletes"
                  rows={preview_.sessions}
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
              {preview_.total > preview_.sessions.length ? (
                <p className="muted">The first {formatNumber(preview_.sessions.length)} are listed.</p>
              ) : null}
            </>
          ) : (
            <>
              <h3 id="preview-title">
                This rule deletes {formatCount(preview_.total, "object")} of the {preview_.store} store now ({formatBytes(preview_.bytes)})
              </h3>
              {preview_.objects.length > 0 ? (
                <DataTable
                  label="Objects the rule deletes"
                  rows={preview_.objects}
                  rowKey={(o) => `${o.device}/${o.path}`}
                  columns={[
                    { header: "Path", primary: true, className: "mono", cell: (o) => o.path },
                    { header: "Device", className: "mono", cell: (o) => o.device },
                    { header: "Modified", className: "nowrap", cell: (o) => <Time value={o.lastModified} /> },
                    { header: "Size", className: "num nowrap", cell: (o) => formatBytes(o.size) },
                  ]}
                />
              ) : null}
              {preview_.total > preview_.objects.length ? (
                <p className="muted">The first {formatNumber(preview_.objects.length)} are listed.</p>
              ) : null}
            </>
          )}
          <form onSubmit={save.onSubmit} style={{ marginTop: 12 }}>
            <input type="hidden" name="project" value={project} />
            <input type="hidden" name="kind" value={current.rule.kind} />
            <input type="hidden" name="value" value={current.rule.value} />
            <input type="hidden" name="store" value={current.rule.store} />
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
