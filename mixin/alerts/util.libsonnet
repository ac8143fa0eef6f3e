{
  // alert builds one alerting rule; every alert gets its runbook_url from the
  // one pattern so that moving the runbook is a one-line config change.
  alert(c, name, severity, expr, forDuration, summary, description):: {
    alert: name,
    expr: expr,
    'for': forDuration,
    labels: { severity: severity },
    annotations: {
      summary: summary,
      description: description,
      runbook_url: c.runbookURLPattern % std.asciiLower(name),
    },
  },

  // indent prefixes every line but the first of s with n spaces, to nest an
  // expression inside another and keep the rule file readable.
  indent(s, n):: std.join('\n' + std.repeat(' ', n), std.split(std.rstripChars(s, '\n'), '\n')) + '\n',
}
