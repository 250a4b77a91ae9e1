/* glueform docs: renders window.GLUEFORM_DOCS (written by `glueform docs generate` into data.js).
 * One page, hash routes (#/table/db.name), only the current page is rendered; no network. */
(function () {
  "use strict";

  var DOC = window.GLUEFORM_DOCS;
  var main = document.getElementById("main");
  var TABLES = {};       // id -> table entry
  var MODEL_IDS = {};    // model name -> table id
  var ORDER = {};        // table id -> position in the document (sources first, then build order)
  DOC.tables.forEach(function (t, i) {
    TABLES[t.id] = t;
    ORDER[t.id] = i;
    if (t.kind === "model") MODEL_IDS[t.name] = t.id;
  });
  var CRAWLS = {};  // crawl id -> the crawl that made some table version shown
  (DOC.crawls || []).forEach(function (c) { CRAWLS[c.id] = c; });
  var SECTIONS = {};
  (DOC.sections || []).forEach(function (s) { SECTIONS[s.id] = s; });

  // -- helpers ---------------------------------------------------------------------------------

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function href() { return "#/" + Array.prototype.map.call(arguments, encodeURIComponent).join("/"); }
  function tableLink(id, label) {
    return TABLES[id] ? '<a href="' + href("table", id) + '">' + esc(label || id) + "</a>" : esc(label || id);
  }
  function columnLink(ref) {
    return '<a href="' + href("table", ref[0], "col", ref[1]) + '" class="mono">' + breakable(ref[0] + "." + ref[1]) + "</a>";
  }
  function breakable(text) { return esc(text).replace(/\./g, ".<wbr>"); }  // long names wrap at their dots
  function when(ts) {
    if (!ts) return "";
    var d = new Date(ts * 1000);
    return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }
  function secs(s) { return s == null ? "" : (s < 60 ? s.toFixed(2) + " s" : (s / 60).toFixed(1) + " min"); }
  function num(n) { return n == null ? "" : Number(n).toLocaleString("en"); }
  function bytes(n) {
    if (n == null) return "";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return n.toFixed(i ? 1 : 0) + " " + u[i];
  }
  function badge(text, cls) { return '<span class="badge ' + esc(cls || text) + '">' + esc(text) + "</span>"; }
  function kindBadges(t) {
    var out = badge(t.kind === "model" ? "model" : t.kind, t.kind);
    if (t.kind === "model") out += badge(t.materialized, t.materialized);
    return out + (t.tags || []).map(function (x) { return badge("#" + x, "tag"); }).join("");
  }
  function grid(headers, rows, cls) {
    return '<table class="grid' + (cls ? " " + cls : "") + '"><thead><tr>' + headers.map(function (h) { return "<th>" + esc(h) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.join("") + "</tbody></table>";
  }
  function kv(pairs) {
    return '<table class="grid kv"><tbody>' + pairs.filter(function (p) { return p[1] !== "" && p[1] != null; })
      .map(function (p) { return "<tr><td>" + esc(p[0]) + "</td><td>" + p[1] + "</td></tr>"; }).join("") + "</tbody></table>";
  }

  // -- navigation ------------------------------------------------------------------------------

  function renderNav() {
    document.getElementById("project-name").textContent = DOC.project.name + " · target " + DOC.project.target;
    document.title = DOC.project.name + " · glueform docs";
    var html = '<a href="#/">Overview</a><a href="#/lineage">Lineage graph</a>';
    if (DOC.runs.length) html += '<a href="#/runs">Runs</a>';
    (DOC.sections || []).forEach(function (s) { html += '<a href="' + href("section", s.id) + '">' + esc(s.title) + "</a>"; });
    html += "<h4>Databases</h4>";
    DOC.databases.forEach(function (db) {
      html += '<details data-db="' + esc(db.name) + '"><summary><a href="' + href("database", db.name) + '" style="display:inline">' +
        esc(db.name) + '</a> <span class="muted">' + db.tables.length + "</span></summary><div></div></details>";
    });
    var nav = document.getElementById("nav");
    nav.innerHTML = html;
    // table links are written when a database is opened: 1,000 tables cost nothing until then
    nav.querySelectorAll("details").forEach(function (d) {
      d.addEventListener("toggle", function () { if (d.open) fillNavDatabase(d); });
    });
  }
  function fillNavDatabase(details) {
    var box = details.querySelector("div");
    if (box.childElementCount) return;
    var db = DOC.databases.filter(function (x) { return x.name === details.dataset.db; })[0];
    box.innerHTML = db.tables.map(function (id) {
      return '<a href="' + href("table", id) + '" data-id="' + esc(id) + '">' + esc(TABLES[id].name) + "</a>";
    }).join("");
  }
  function markNav(tableId) {
    var nav = document.getElementById("nav");
    nav.querySelectorAll("a.current").forEach(function (a) { a.classList.remove("current"); });
    if (!tableId) return;
    var d = nav.querySelector('details[data-db="' + CSS.escape(TABLES[tableId].database) + '"]');
    if (d) { d.open = true; fillNavDatabase(d); }
    var a = nav.querySelector('a[data-id="' + CSS.escape(tableId) + '"]');
    if (a) { a.classList.add("current"); }
  }

  // -- pages -----------------------------------------------------------------------------------

  function overview() {
    var p = DOC.project;
    var models = DOC.tables.filter(function (t) { return t.kind === "model"; });
    var columns = DOC.tables.reduce(function (n, t) { return n + t.columns.length; }, 0);
    var described = models.filter(function (t) { return t.description; }).length;
    var html = "<h1>" + esc(p.name) + "</h1>" +
      '<p class="muted">Generated ' + esc(DOC.generated_at) + " by glueform " + esc(DOC.glueform_version) +
      " · target <b>" + esc(p.target) + "</b> (" + esc(p.engine) + ") · SQL dialect " + esc(p.dialect) + "</p>" +
      '<div class="cards">' +
      card(p.models, "models") + card(p.sources, "source tables") + card(DOC.databases.length, "databases") +
      card(columns, "columns") + card(models.length ? Math.round(100 * described / models.length) + "%" : "–", "models described") +
      (DOC.runs.length ? card(DOC.runs.length, "recent runs") : "") +
      (DOC.sections || []).map(function (s) { return card(s.items.length, s.title.toLowerCase()); }).join("") +
      "</div>";
    html += "<h2>Databases</h2>" + grid(["database", "tables", "kinds"], DOC.databases.map(function (db) {
      return "<tr><td>" + '<a href="' + href("database", db.name) + '">' + esc(db.name) + "</a>" +
        (db.default ? ' <span class="muted">(default)</span>' : "") + "</td><td>" + db.tables.length +
        "</td><td>" + db.kinds.map(function (k) { return badge(k, k); }).join("") + "</td></tr>";
    }));
    if (p.tags.length) {
      html += "<h2>Tags</h2><p>" + p.tags.map(function (t) {
        return '<a href="' + href("lineage", "tag:" + t) + '">' + badge("#" + t, "tag") + "</a>";
      }).join(" ") + "</p>";
    }
    if (DOC.runs.length) html += "<h2>Recent runs</h2>" + runsTable(DOC.runs.slice(0, 5));
    html += '<h2>Lineage</h2><p><a href="#/lineage">The whole DAG</a>, filterable with selectors ' +
      '(<code>stg_orders+</code>, <code>+fct_orders</code>, <code>tag:nightly</code>).</p>';
    main.innerHTML = html;
  }
  function card(value, label) { return '<div class="card"><b>' + esc(value) + "</b>" + esc(label) + "</div>"; }

  function databasePage(name) {
    var db = DOC.databases.filter(function (d) { return d.name === name; })[0];
    if (!db) return notFound("database " + name);
    main.innerHTML = "<h1>" + esc(name) + "</h1>" + grid(["table", "kind", "columns", "description"],
      db.tables.map(function (id) {
        var t = TABLES[id];
        return "<tr><td>" + tableLink(id, t.name) + "</td><td>" + kindBadges(t) + "</td><td>" + t.columns.length +
          "</td><td>" + esc(t.description) + "</td></tr>";
      }));
  }

  function tablePage(id, column) {
    var t = TABLES[id];
    if (!t) return notFound("table " + id);
    var s = t.stats || {};
    var html = '<h1 class="mono">' + esc(t.id) + "</h1><p>" + kindBadges(t) + "</p>" +
      (t.description ? '<p class="desc">' + esc(t.description) + "</p>" : '<p class="muted">No description.</p>');
    html += kv([
      ["file", t.file ? '<span class="mono">' + esc(t.file) + "</span>" : ""],
      ["location", t.location ? '<span class="mono">' + esc(t.location) + "</span>" : (t.kind === "model" && t.materialized === "view" ? "(a view: no data files)" : "")],
      ["format", esc(t.format || "")],
      ["table type", esc(t.table_type || "")],
      ["owner", esc(t.owner || "")],
      ["catalog version", t.in_catalog ? esc(t.version) + (t.updated_at ? " · updated " + esc(when(t.updated_at)) : "") : '<span class="muted">not in the catalog yet (never run)</span>'],
      ["rows", num(s.rows)],
      ["size", bytes(s.bytes)],
      ["last built", s.built_at ? esc(when(s.built_at)) + " · run " + runLink(s.run_id) + (s.up_to_date ? "" : ' · <span class="status-skipped">the project changed since</span>') : ""],
      ["partitions", t.partitions && t.partitions.count ? num(t.partitions.count) : ""],
      ["upstream", (t.upstream || []).map(function (u) { return tableLink(u); }).join(", ")],
      ["downstream", (t.downstream || []).map(function (u) { return tableLink(u); }).join(", ")]
    ]);
    html += '<div id="column-trace"></div><h2>Columns</h2>' + columnsTable(t);
    if (t.partition_keys && t.partition_keys.length) {
      html += "<h2>Partition keys</h2>" + grid(["name", "type", "description"], t.partition_keys.map(function (c) {
        return '<tr><td class="mono">' + esc(c.name) + '</td><td class="mono type">' + esc(c.type) + '</td><td class="desc-cell">' + esc(c.description) + "</td></tr>";
      }));
    }
    if (t.partitions && t.partitions.count) {
      html += "<h2>Partitions</h2>" + (t.partitions.count > t.partitions.items.length ?
        '<p class="muted">The first ' + t.partitions.items.length + " of " + num(t.partitions.count) + ".</p>" : "") +
        grid(["values", "rows", "size", "location"], t.partitions.items.map(function (p) {
          return '<tr><td class="mono">' + esc(p.values.join("/")) + "</td><td>" + num(p.rows) + "</td><td>" + bytes(p.bytes) +
            '</td><td class="mono">' + esc(p.location) + "</td></tr>";
        }));
    }
    if (t.quality && t.quality.length) {
      html += "<h2>Quality rules</h2>" + grid(["rule", "column", "detail"], t.quality.map(function (q) {
        return "<tr><td>" + esc(q.rule) + '</td><td class="mono">' + esc(q.column || "") + "</td><td>" + esc(q.detail || "") + "</td></tr>";
      }));
    }
    html += '<h2>Lineage</h2><div class="graph-wrap" id="table-graph"></div>';
    if (t.transform) html += transformBlock(t.transform);
    if (t.source) {
      html += "<h2>Source</h2>" + kv([["path", '<span class="mono">' + esc(t.source.path) + "</span>"],
        ["format", esc(t.source.format)], ["options", '<span class="mono">' + esc(JSON.stringify(t.source.options)) + "</span>"]]);
    }
    if (t.versions && t.versions.length) {
      html += "<h2>Versions</h2>" + grid(["version", "created", "made by", "columns", "location"], t.versions.map(function (v) {
        return "<tr><td>" + esc(v.version) + (v.version === t.version ? " (current)" : "") + "</td><td>" + esc(when(v.created_at)) +
          "</td><td>" + (v.crawl_id ? crawlLink(v.crawl_id) : runLink(v.run_id)) + "</td><td>" + esc(v.columns) + '</td><td class="mono">' + esc(v.location || "(view)") + "</td></tr>";
      }));
    }
    if (t.runs && t.runs.length) {
      html += "<h2>Recent builds</h2>" + grid(["run", "started", "status", "rows", "duration", "message"], t.runs.map(function (r) {
        return "<tr><td>" + runLink(r.run_id) + "</td><td>" + esc(when(r.started_at)) + '</td><td class="status-' + esc(r.status) + '">' +
          esc(r.status) + "</td><td>" + num(r.rows) + "</td><td>" + secs(r.seconds) + "</td><td>" + esc(r.message || "") + "</td></tr>";
      }));
    }
    main.innerHTML = html;
    var near = {};
    near[id] = true;
    reach(id, "upstream", 2).forEach(function (x) { near[x] = true; });
    reach(id, "downstream", 2).forEach(function (x) { near[x] = true; });
    drawGraph(document.getElementById("table-graph"), Object.keys(near), id);
    bindTabs();
    markNav(id);
    if (column) {
      var row = main.querySelector('tr[data-col="' + CSS.escape(column) + '"]');
      if (row) {
        row.classList.add("hl");
        var trace = document.getElementById("column-trace");
        trace.innerHTML = '<h2>Column lineage of <span class="mono">' + esc(id + "." + column) + "</span></h2>" +
          '<p class="muted">Upstream down to the sources, downstream to every column built from it. Click a column to open it.</p>' +
          '<div class="graph-wrap" id="column-graph"></div>';
        drawColumnGraph(document.getElementById("column-graph"), id, column);
        trace.scrollIntoView({ block: "start" });
        window.scrollBy(0, -56);  // below the sticky header
      }
    } else {
      window.scrollTo(0, 0);
    }
  }

  function columnsTable(t) {
    var lineage = t.kind === "model";
    var headers = ["name", "type", "description"];
    if (lineage) headers.push("upstream columns", "source columns");
    headers.push("used by");
    var note = lineage && !t.lineage_known ? '<p class="note">Column lineage is unknown: sqlglot could not analyse this SQL.</p>' : "";
    return note + grid(headers, t.columns.map(function (c) {
      var row = '<tr data-col="' + esc(c.name) + '"><td class="mono name"><a href="' + href("table", t.id, "col", c.name) +
        '" title="trace this column">' + esc(c.name) + "</a>" +
        (c.missing ? ' <span class="status-skipped" title="documented in YAML, not found in the SQL">(not in SQL)</span>' : "") +
        '</td><td class="mono type">' + esc(c.type) + '</td><td class="desc-cell">' + esc(c.description) +
        (c.tags && c.tags.length ? " " + c.tags.map(function (x) { return badge("#" + x, "tag"); }).join("") : "") + "</td>";
      if (lineage) {
        row += '<td class="refs upstream">' + refs(c.upstream, c.missing ? "" : "computed") + '</td><td class="refs origins">' +
          refs(c.origins, "") + "</td>";
      }
      return row + '<td class="refs downstream">' + refs(c.downstream, "") + "</td></tr>";
    }), lineage ? "columns lineage" : "columns");
  }
  function refs(list, empty) {
    if (!list || !list.length) return empty ? '<span class="muted">' + esc(empty) + "</span>" : "";
    return list.map(columnLink).join(" ");
  }

  function transformBlock(tr) {
    var tabs = [["source", tr.raw_sql]].concat(DOC.project.dialects.map(function (d) { return [d, tr.sql[d]]; }));
    tabs.push(["config", JSON.stringify(tr.config, null, 2)]);
    var html = '<h2>Transform</h2><p class="mono">' + esc(tr.path) + "</p>";
    html += '<div class="tabs">' + tabs.map(function (tab, i) {
      var label = tab[0] === "source" ? "Jinja-SQL (as written)" : tab[0] === "config" ? "config" : "compiled · " + tab[0];
      return '<button data-tab="' + i + '"' + (i === 1 ? ' class="on"' : "") + ">" + esc(label) + "</button>";
    }).join("") + "</div>";
    html += tabs.map(function (tab, i) {
      return '<pre class="sql" data-pane="' + i + '"' + (i === 1 ? "" : " hidden") + ">" + esc(tab[1]) + "</pre>";
    }).join("");
    return html;
  }
  function bindTabs() {
    main.querySelectorAll(".tabs button").forEach(function (b) {
      b.addEventListener("click", function () {
        main.querySelectorAll(".tabs button").forEach(function (x) { x.classList.toggle("on", x === b); });
        main.querySelectorAll("pre[data-pane]").forEach(function (p) { p.hidden = p.dataset.pane !== b.dataset.tab; });
      });
    });
  }

  function runLink(id) { return id ? '<a class="mono run-id" href="' + href("run", id) + '">' + esc(id) + "</a>" : ""; }
  function runsTable(runs) {
    return grid(["run", "command", "target", "status", "started", "duration", "built / failed / skipped"], runs.map(function (r) {
      return "<tr><td>" + runLink(r.id) + "</td><td>" + esc(r.command) + "</td><td>" + esc(r.target) + '</td><td class="status-' +
        esc(r.status) + '">' + esc(r.status) + "</td><td>" + esc(when(r.started_at)) + "</td><td>" + secs(r.seconds) +
        "</td><td>" + r.counts.success + " / " + r.counts.error + " / " + r.counts.skipped + "</td></tr>";
    }));
  }
  function crawlLink(id) {
    return CRAWLS[id] ? 'crawl <a class="mono run-id" href="' + href("crawl", id) + '">' + esc(id) + "</a>" : esc(id);
  }
  function crawlPage(id) {
    var c = CRAWLS[id];
    if (!c) return notFound("crawl " + id);
    var crawler = SECTIONS.crawlers && SECTIONS.crawlers.items.some(function (x) { return x.name === c.crawler; }) ?
      '<a href="' + href("section", "crawlers", c.crawler) + '">' + esc(c.crawler) + "</a>" : esc(c.crawler);
    main.innerHTML = '<h1 class="mono">crawl ' + esc(c.id) + "</h1>" + kv([
      ["crawler", crawler],
      ["status", '<span class="status-' + esc(c.status) + '">' + esc(c.status) + "</span>"],
      ["started", esc(when(c.started_at))],
      ["duration", secs(c.seconds)],
      ["kind", c.incremental ? "incremental (new folders only)" : "full"],
      ["files", num(c.files_listed) + " listed, " + num(c.files_read) + " read"],
      ["warnings", c.warnings.map(esc).join("<br>")]
    ]) + "<h2>Tables</h2>" + (c.tables.length ? grid(["table", "action", "format", "changes", "location"], c.tables.map(function (t) {
      var tid = c.database + "." + t.name;
      return "<tr><td>" + tableLink(tid, tid) + "</td><td>" + esc(t.action) + "</td><td>" + esc(t.format || "") + '</td><td class="mono">' +
        (t.changes || []).map(esc).join("<br>") + (t.note ? '<div class="muted">' + esc(t.note) + "</div>" : "") +
        '</td><td class="mono">' + esc(t.location || "") + "</td></tr>";
    })) : '<p class="muted">No table changed.</p>');
  }
  function runsPage() { main.innerHTML = "<h1>Recent runs</h1>" + (DOC.runs.length ? runsTable(DOC.runs) : "<p>No runs yet.</p>"); }
  function runPage(id) {
    var r = DOC.runs.filter(function (x) { return x.id === id; })[0];
    if (!r) return notFound("run " + id + " (only the most recent runs are kept in the docs)");
    main.innerHTML = '<h1 class="mono">run ' + esc(r.id) + "</h1>" + runsTable([r]) + "<h2>Models</h2>" +
      grid(["model", "status", "rows", "duration", "message"], r.nodes.map(function (n) {
        var id = MODEL_IDS[n.node];
        return "<tr><td>" + (id ? tableLink(id, n.node) : esc(n.node)) + '</td><td class="status-' + esc(n.status) + '">' + esc(n.status) +
          "</td><td>" + num(n.rows) + "</td><td>" + secs(n.seconds) + "</td><td>" + esc(n.message || "") + "</td></tr>";
      }));
  }

  function sectionPage(sid, item) {
    var s = SECTIONS[sid];
    if (!s) return notFound(sid);
    var items = item ? s.items.filter(function (x) { return x.name === item; }) : s.items;
    main.innerHTML = "<h1>" + esc(s.title) + (item ? " · " + esc(item) : "") + "</h1>" + items.map(function (x) {
      var props = Object.keys(x.properties || {}).map(function (k) { return [k, esc(typeof x.properties[k] === "string" ? x.properties[k] : JSON.stringify(x.properties[k]))]; });
      if (x.tables && x.tables.length) props.push(["tables", x.tables.map(function (id) { return tableLink(id); }).join(", ")]);
      if (x.triggers && x.triggers.length) props.push(["triggers", x.triggers.map(function (tr) { return Object.keys(tr).map(function (k) { return esc(k + ": " + tr[k]); }).join(" · "); }).join("<br>")]);
      return '<h2 id="' + esc(x.name) + '"><a href="' + href("section", sid, x.name) + '">' + esc(x.name) + "</a></h2>" +
        (x.description ? '<p class="desc">' + esc(x.description) + "</p>" : "") + kv(props);
    }).join("");
  }

  function notFound(what) { main.innerHTML = '<h1>Not found</h1><p class="error">No ' + esc(what) + ' in these docs.</p><p><a href="#/">Overview</a></p>'; }

  // -- lineage graph ---------------------------------------------------------------------------

  function reach(start, dir, depth) {
    var seen = {}, frontier = [start], level = 0;
    while (frontier.length && (depth == null || level < depth)) {
      level++;
      var next = [];
      frontier.forEach(function (id) {
        ((TABLES[id] || {})[dir] || []).forEach(function (x) { if (!seen[x]) { seen[x] = true; next.push(x); } });
      });
      frontier = next;
    }
    return Object.keys(seen);
  }

  // The selector grammar of `glueform ls -s` (dag.Graph.select): space = union, comma =
  // intersection; name (with * ? wildcards), name+, +name, 2+name, name+1, tag:x, path:dir.
  // Here also source:raw / source:raw.orders, and a table id (db.name); sources join the walks.
  var SELECTOR = /^(?:(\d*)\+)?(?:([a-z]+):)?([^+:]+)(?:\+(\d*))?$/;
  function glob(pattern) {
    return new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  }
  function selectTables(text) {
    var out = {};
    text.split(/\s+/).filter(Boolean).forEach(function (term) {
      var parts = term.split(",").filter(Boolean).map(selectTerm);
      if (!parts.length) return;
      Object.keys(parts[0]).forEach(function (id) {
        if (parts.every(function (p) { return p[id]; })) out[id] = true;
      });
    });
    return Object.keys(out);
  }
  function selectTerm(term) {
    var m = SELECTOR.exec(term);
    if (!m) throw new Error("cannot read selector '" + term + "' (examples: stg_orders+, +fct_orders, 2+x, tag:nightly, path:marts)");
    var method = m[2], value = m[3], base = [];
    DOC.tables.forEach(function (t) {
      if (baseMatch(t, method, value)) base.push(t.id);
    });
    if (!base.length) throw new Error("selector '" + term + "' matches no table");
    var out = {};
    base.forEach(function (id) {
      out[id] = true;
      if (m[1] != null) reach(id, "upstream", m[1] ? +m[1] : null).forEach(function (x) { out[x] = true; });
      if (m[4] != null) reach(id, "downstream", m[4] ? +m[4] : null).forEach(function (x) { out[x] = true; });
    });
    return out;
  }
  function baseMatch(t, method, value) {
    if (method === "tag") return (t.tags || []).indexOf(value) >= 0;
    if (method === "path") {
      var prefix = value.replace(/\/+$/, "");
      return [t.file || "", (t.file || "").replace(/^transforms\//, "")].some(function (rel) {
        return rel === prefix || rel.indexOf(prefix + "/") === 0 || glob(prefix).test(rel);
      });
    }
    if (method === "source") return t.kind === "source" && (glob(value).test(t.database) || glob(value).test(t.id));
    if (method && method !== "model" && method !== "fqn") throw new Error("unknown selector method '" + method + ":'");
    return (t.kind === "model" && glob(value).test(t.name)) || t.id === value;
  }

  function lineagePage(selector) {
    selector = selector || "";
    var html = '<h1>Lineage</h1><div class="graph-bar"><input id="selector" value="' + esc(selector) +
      '" placeholder="selector, e.g. +fct_orders  tag:nightly  stg_orders+" spellcheck="false">' +
      '<button id="apply-selector">Show</button><button id="clear-selector">All</button>' +
      '<span id="graph-info" class="muted"></span></div><div id="selector-error" class="error"></div>' +
      '<div class="graph-wrap" id="graph"></div>' +
      '<p class="muted">Click a table to open its page. Sources are green, views purple. ' +
      "Selectors: <code>name</code>, <code>name+</code>, <code>+name</code>, <code>2+name</code>, <code>name+1</code>, " +
      "<code>tag:x</code>, <code>path:dir</code>, <code>source:raw</code>, <code>stg_*</code>; space = union, comma = intersection.</p>";
    main.innerHTML = html;
    var ids;
    try {
      ids = selector.trim() ? selectTables(selector) : DOC.tables.filter(function (t) { return t.kind !== "catalog"; }).map(function (t) { return t.id; });
    } catch (e) {
      document.getElementById("selector-error").textContent = e.message;
      ids = [];
    }
    // the whole DAG opens fitted to the page (down to a fifth), then zooms and pans
    var info = drawGraph(document.getElementById("graph"), ids, null,
      Object.assign({}, TABLE_GRAPH, { minScale: window.innerWidth < 760 ? 0.45 : 0.2 }));  // a phone: zoom out or pan
    document.getElementById("graph-info").textContent = info.nodes + " tables, " + info.edges + " edges";
    var input = document.getElementById("selector");
    function go() { location.hash = input.value.trim() ? href("lineage", input.value.trim()) : "#/lineage"; }
    document.getElementById("apply-selector").addEventListener("click", go);
    document.getElementById("clear-selector").addEventListener("click", function () { location.hash = "#/lineage"; });
    input.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
  }

  // Layered layout: a node's layer is its longest upstream path within the shown set; within a
  // layer, nodes are ordered by the mean position of their upstream (two sweeps). `ups(id)`
  // gives a node's upstream ids; `rank(id)` a build order (parents before children).
  function layout(ids, ups, rank) {
    var shown = {};
    ids.forEach(function (id) { shown[id] = true; });
    var sorted = ids.slice().sort(function (a, b) { return rank(a) - rank(b); });
    var layer = {};
    sorted.forEach(function (id) {
      var l = 0;
      ups(id).forEach(function (u) { if (shown[u] && layer[u] != null) l = Math.max(l, layer[u] + 1); });
      layer[id] = l;
    });
    var layers = [];
    sorted.forEach(function (id) { (layers[layer[id]] = layers[layer[id]] || []).push(id); });
    var pos = {};
    layers.forEach(function (ls) { ls.sort(); ls.forEach(function (id, i) { pos[id] = i; }); });
    for (var sweep = 0; sweep < 2; sweep++) {
      layers.forEach(function (ls, li) {
        if (!li) return;
        var key = {};
        ls.forEach(function (id) {
          var up = ups(id).filter(function (u) { return shown[u]; });
          key[id] = up.length ? up.reduce(function (s, u) { return s + pos[u]; }, 0) / up.length : pos[id];
        });
        ls.sort(function (a, b) { return key[a] - key[b] || (a < b ? -1 : 1); });
        ls.forEach(function (id, i) { pos[id] = i; });
      });
    }
    return { layers: layers, layer: layer, pos: pos, shown: shown };
  }

  var TABLE_GRAPH = {
    minScale: 0.5,
    maxWidth: 260,
    ups: function (id) { return TABLES[id].upstream || []; },
    rank: function (id) { return ORDER[id]; },
    link: function (id) { return href("table", id); },
    cls: function (id) { var t = TABLES[id]; return t.kind === "model" ? t.materialized : t.kind; },
    label: function (id) { var t = TABLES[id]; return t.kind === "model" ? t.name : t.id; },
    title: function (id) { var t = TABLES[id]; return t.id + (t.description ? " — " + t.description : ""); }
  };

  // Text widths for node sizes, measured with the page's own font (a canvas draws no pixels).
  var MEASURE = null;
  function textWidth(text) {
    if (!MEASURE) {
      MEASURE = document.createElement("canvas").getContext("2d");
      MEASURE.font = "12px " + getComputedStyle(document.body).fontFamily;
    }
    return MEASURE.measureText(text).width;
  }

  // A layered graph in an SVG with a viewBox, so it can be drawn at any scale: it opens fitted
  // to the box's width (never larger than life, never below `kind.minScale`), the buttons and
  // Ctrl+wheel zoom, a drag pans. `kind.fullLabels` sizes the nodes to their longest label;
  // otherwise labels are cut at `kind.maxWidth`. `kind.start` is where it opens: "focus" (the
  // focused node centred) or "sources" (the first layer, where lineage starts, in view).
  function drawGraph(box, ids, focus, kind) {
    kind = kind || TABLE_GRAPH;
    if (!ids.length) { box.innerHTML = '<p class="muted" style="padding:8px">Nothing to show.</p>'; return { nodes: 0, edges: 0 }; }
    var L = layout(ids, kind.ups, kind.rank), H = 26, GX = 70, GY = 12, PAD = 12;
    var longest = 0;
    ids.forEach(function (id) { longest = Math.max(longest, textWidth(kind.label(id))); });
    var W = Math.max(kind.width || 190, Math.ceil(longest) + 18);
    if (!kind.fullLabels) W = Math.min(W, kind.maxWidth || 260);
    var height = 0;
    L.layers.forEach(function (ls) { height = Math.max(height, ls.length); });
    var svgW = L.layers.length * (W + GX) - GX + 2 * PAD, svgH = height * (H + GY) - GY + 2 * PAD;
    function x(id) { return PAD + L.layer[id] * (W + GX); }
    function y(id) { return PAD + L.pos[id] * (H + GY); }
    var edges = [], nodes = [], count = 0;
    ids.forEach(function (id) {
      kind.ups(id).forEach(function (u) {
        if (!L.shown[u]) return;
        count++;
        var x1 = x(u) + W, y1 = y(u) + H / 2, x2 = x(id), y2 = y(id) + H / 2, mx = (x1 + x2) / 2;
        var hot = focus && (u === focus || id === focus) ? " hot" : "";
        edges.push('<path class="edge' + hot + '" d="M' + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2 + '"/>');
      });
      var label = kind.label(id);
      if (textWidth(label) > W - 16) {
        while (label.length > 1 && textWidth(label + "…") > W - 16) label = label.slice(0, -1);
        label += "…";
      }
      nodes.push('<a href="' + kind.link(id) + '" class="node ' + esc(kind.cls(id)) + (id === focus ? " focus" : "") + '" data-id="' + esc(id) +
        '" data-layer="' + L.layer[id] + '"><title>' + esc(kind.title(id)) + '</title><rect x="' + x(id) + '" y="' + y(id) + '" width="' + W + '" height="' + H +
        '"/><text x="' + (x(id) + 8) + '" y="' + (y(id) + 17) + '">' + esc(label) + "</text></a>");
    });
    box.innerHTML = '<div class="graph-tools"><button type="button" data-zoom="out" title="Zoom out">−</button>' +
      '<span class="zoom"></span><button type="button" data-zoom="in" title="Zoom in (or Ctrl + wheel)">+</button>' +
      '<button type="button" data-zoom="fit" title="Fit to the width">Fit</button></div><div class="graph-view">' +
      '<svg xmlns="http://www.w3.org/2000/svg" class="lineage" viewBox="0 0 ' + svgW + " " + svgH + '">' +
      edges.join("") + nodes.join("") + "</svg></div>";
    var view = box.querySelector(".graph-view"), svg = view.querySelector("svg"), shown = box.querySelector(".zoom");
    var scale = 1, minScale = kind.minScale || 0.5;
    function fitScale() { return Math.max(Math.min(1, (view.clientWidth - 2) / svgW), minScale); }
    function setScale(next, cx, cy) {  // keep the point (cx, cy) of the view where it is
      next = Math.max(Math.min(next, 3), Math.min(minScale, fitScale()) / 2);
      cx = cx == null ? view.clientWidth / 2 : cx;
      cy = cy == null ? view.clientHeight / 2 : cy;
      var gx = (view.scrollLeft + cx) / scale, gy = (view.scrollTop + cy) / scale;
      scale = next;
      svg.setAttribute("width", Math.round(svgW * scale));
      svg.setAttribute("height", Math.round(svgH * scale));
      view.scrollLeft = gx * scale - cx;
      view.scrollTop = gy * scale - cy;
      shown.textContent = Math.round(scale * 100) + "%";
    }
    setScale(fitScale(), 0, 0);
    if (kind.start === "sources") {
      view.scrollLeft = 0;
      var first = ids.filter(function (id) { return L.layer[id] === 0; }).map(y);
      view.scrollTop = Math.max(0, (Math.min.apply(null, first) - PAD) * scale);
    } else if (focus && L.shown[focus]) {  // bring the focused node into view
      view.scrollLeft = Math.max(0, (x(focus) + W / 2) * scale - view.clientWidth / 2);
      view.scrollTop = Math.max(0, (y(focus) + H / 2) * scale - view.clientHeight / 2);
    }
    box.querySelector(".graph-tools").addEventListener("click", function (e) {
      var b = e.target.closest("button");
      if (!b) return;
      if (b.dataset.zoom === "fit") { setScale(fitScale(), 0, 0); view.scrollLeft = view.scrollTop = 0; }
      else setScale(scale * (b.dataset.zoom === "in" ? 1.25 : 0.8));
    });
    view.addEventListener("wheel", function (e) {
      if (!e.ctrlKey && !e.metaKey) return;  // a plain wheel scrolls
      e.preventDefault();
      var r = view.getBoundingClientRect();
      setScale(scale * (e.deltaY < 0 ? 1.15 : 1 / 1.15), e.clientX - r.left, e.clientY - r.top);
    }, { passive: false });
    var drag = null;
    view.addEventListener("pointerdown", function (e) {
      if (e.button !== 0 || e.pointerType !== "mouse") return;  // a finger scrolls the view natively
      drag = { x: e.clientX, y: e.clientY, left: view.scrollLeft, top: view.scrollTop, moved: false };
    });
    view.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
      drag.moved = true;
      view.classList.add("dragging");
      view.scrollLeft = drag.left - dx;
      view.scrollTop = drag.top - dy;
    });
    function endDrag() {
      if (drag && drag.moved) {  // a drag that ends on a node does not open it
        var stop = function (e) { e.preventDefault(); e.stopPropagation(); };
        view.addEventListener("click", stop, true);
        setTimeout(function () { view.removeEventListener("click", stop, true); }, 0);
      }
      drag = null;
      view.classList.remove("dragging");
    }
    view.addEventListener("pointerup", endDrag);
    view.addEventListener("pointerleave", endDrag);
    return { nodes: ids.length, edges: count };
  }

  // Column lineage of one column: every column upstream of it (down to the sources) and every
  // column built from it, as a graph of "table id|column" nodes.
  function columnOf(key) {
    var i = key.lastIndexOf("|"), t = TABLES[key.slice(0, i)], name = key.slice(i + 1);
    return t && t.columns.filter(function (c) { return c.name === name; })[0];
  }
  var COLUMN_GRAPH = {
    width: 190,
    fullLabels: true,  // a column's name is what the reader came for
    start: "sources",
    minScale: 0.8,
    ups: function (key) { var c = columnOf(key); return ((c && c.upstream) || []).map(function (r) { return r[0] + "|" + r[1]; }); },
    rank: function (key) { return ORDER[key.slice(0, key.lastIndexOf("|"))]; },
    link: function (key) { var i = key.lastIndexOf("|"); return href("table", key.slice(0, i), "col", key.slice(i + 1)); },
    cls: function (key) { return TABLE_GRAPH.cls(key.slice(0, key.lastIndexOf("|"))); },
    label: function (key) { var i = key.lastIndexOf("|"); return TABLE_GRAPH.label(key.slice(0, i)) + "." + key.slice(i + 1); },
    title: function (key) { var c = columnOf(key); return key.replace("|", ".") + (c && c.type ? " " + c.type : "") + (c && c.description ? " — " + c.description : ""); }
  };
  function drawColumnGraph(box, tableId, column) {
    var start = tableId + "|" + column, seen = {}, stack = [start];
    seen[start] = true;
    while (stack.length) {  // upstream, all the way
      COLUMN_GRAPH.ups(stack.pop()).forEach(function (k) { if (!seen[k]) { seen[k] = true; stack.push(k); } });
    }
    stack = [start];
    while (stack.length) {  // downstream, all the way
      var c = columnOf(stack.pop());
      ((c && c.downstream) || []).forEach(function (r) { var k = r[0] + "|" + r[1]; if (!seen[k]) { seen[k] = true; stack.push(k); } });
    }
    return drawGraph(box, Object.keys(seen).filter(function (k) { return columnOf(k); }), start, COLUMN_GRAPH);
  }

  // -- search ----------------------------------------------------------------------------------

  var INDEX = null;  // built on first use: [kind, label, href, name (lower), text (lower), detail]
  function buildIndex() {
    INDEX = [];
    DOC.databases.forEach(function (db) {
      INDEX.push(["database", db.name, href("database", db.name), db.name.toLowerCase(), db.name.toLowerCase(), db.tables.length + " tables"]);
    });
    DOC.tables.forEach(function (t) {
      INDEX.push([t.kind === "model" ? "table" : t.kind, t.id, href("table", t.id), t.name.toLowerCase(),
        (t.id + " " + (t.description || "") + " " + (t.tags || []).join(" ")).toLowerCase(), t.description || ""]);
      t.columns.forEach(function (c) {
        INDEX.push(["column", t.id + "." + c.name, href("table", t.id, "col", c.name), c.name.toLowerCase(),
          (t.id + "." + c.name + " " + (c.description || "") + " " + (c.type || "")).toLowerCase(), (c.type ? c.type + " · " : "") + (c.description || "")]);
      });
    });
    (DOC.sections || []).forEach(function (s) {
      s.items.forEach(function (x) {
        INDEX.push([s.id.replace(/s$/, ""), x.name, href("section", s.id, x.name), x.name.toLowerCase(),
          (x.name + " " + (x.description || "")).toLowerCase(), x.description || ""]);
      });
    });
  }
  function search(text) {
    if (!INDEX) buildIndex();
    var words = text.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    var first = words[0], hits = [];
    for (var i = 0; i < INDEX.length; i++) {
      var e = INDEX[i], ok = true;
      for (var w = 0; w < words.length && ok; w++) ok = e[4].indexOf(words[w]) >= 0;
      if (!ok) continue;
      var rank = e[3] === first ? 0 : e[3].indexOf(first) === 0 ? 1 : e[3].indexOf(first) >= 0 ? 2 : 3;
      hits.push([rank, e]);
    }
    hits.sort(function (a, b) { return a[0] - b[0] || (a[1][1] < b[1][1] ? -1 : 1); });
    return hits.slice(0, 50).map(function (h) { return h[1]; }).concat(hits.length > 50 ? [["more", hits.length - 50]] : []);
  }
  function bindSearch() {
    var input = document.getElementById("search"), box = document.getElementById("search-results"), active = -1;
    function show() {
      var results = search(input.value);
      active = -1;
      if (!input.value.trim()) { box.hidden = true; return; }
      box.innerHTML = results.length ? results.map(function (e) {
        if (e[0] === "more") return '<div class="empty">… and ' + e[1] + " more; type more words</div>";
        return '<a href="' + e[2] + '" data-kind="' + esc(e[0]) + '">' + badge(e[0], e[0]) + ' <span class="mono">' + esc(e[1]) +
          '</span> <span class="what">' + esc(e[5].slice(0, 120)) + "</span></a>";
      }).join("") : '<div class="empty">Nothing matches.</div>';
      box.hidden = false;
    }
    function move(step) {
      var links = box.querySelectorAll("a");
      if (!links.length) return;
      active = (active + step + links.length) % links.length;
      links.forEach(function (a, i) { a.classList.toggle("active", i === active); });
      links[active].scrollIntoView({ block: "nearest" });
    }
    input.addEventListener("input", show);
    input.addEventListener("focus", function () { if (input.value.trim()) show(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { move(1); e.preventDefault(); }
      else if (e.key === "ArrowUp") { move(-1); e.preventDefault(); }
      else if (e.key === "Enter") {
        var links = box.querySelectorAll("a");
        if (links.length) location.hash = links[Math.max(active, 0)].getAttribute("href");
        box.hidden = true;
      } else if (e.key === "Escape") { box.hidden = true; input.blur(); }
    });
    box.addEventListener("click", function (e) { if (e.target.closest("a")) box.hidden = true; });
    document.addEventListener("click", function (e) { if (!e.target.closest(".search")) box.hidden = true; });
    document.addEventListener("keydown", function (e) {
      if (e.key === "/" && document.activeElement !== input && !/INPUT|TEXTAREA/.test(document.activeElement.tagName)) {
        e.preventDefault(); input.focus();
      }
    });
  }

  // -- routing ---------------------------------------------------------------------------------

  function route() {
    var parts = location.hash.replace(/^#\/?/, "").split("/").filter(function (p) { return p !== ""; }).map(decodeURIComponent);
    markNav(null);
    switch (parts[0] || "") {
      case "": overview(); break;
      case "database": databasePage(parts[1]); break;
      case "table": tablePage(parts[1], parts[2] === "col" ? parts[3] : null); break;
      case "lineage": lineagePage(parts.slice(1).join("/")); break;
      case "runs": runsPage(); break;
      case "run": runPage(parts[1]); break;
      case "crawl": crawlPage(parts[1]); break;
      case "section": sectionPage(parts[1], parts[2]); break;
      default: notFound("page " + location.hash);
    }
    if (parts[0] !== "table") window.scrollTo(0, 0);
  }

  // On a narrow screen the sidebar is a drawer: the menu button opens it, following a link,
  // the scrim or Escape closes it (the CSS decides when it is a drawer; this only toggles).
  function bindMenu() {
    var button = document.getElementById("menu");
    function open(on) {
      document.body.classList.toggle("nav-open", on);
      button.setAttribute("aria-expanded", on ? "true" : "false");
    }
    button.addEventListener("click", function () { open(!document.body.classList.contains("nav-open")); });
    document.getElementById("scrim").addEventListener("click", function () { open(false); });
    document.getElementById("nav").addEventListener("click", function (e) {
      if (e.target.closest("a") && !e.target.closest("summary")) open(false);
    });
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") open(false); });
  }

  renderNav();
  bindSearch();
  bindMenu();
  window.addEventListener("hashchange", route);
  route();
})();
