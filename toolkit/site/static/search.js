// Offline search over search/index.json: the same tokens as toolkit/site/search.py (tokens()).
(function () {
  "use strict";
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
  var WORD = /[0-9a-z]+/g;
  function tokens(text) {
    var norm = text.normalize("NFKC").toLowerCase();
    var out = [];
    (norm.match(HAN) || []).forEach(function (run) {
      var chars = Array.from(run);
      if (chars.length === 1) { out.push(run); }
      for (var i = 0; i + 1 < chars.length; i++) { out.push(chars[i] + chars[i + 1]); }
    });
    (norm.replace(HAN, " ").match(WORD) || []).forEach(function (w) { out.push(w); });
    return out;
  }
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var lang = list.getAttribute("data-lang");
  var root = list.getAttribute("data-root");
  var index = null;
  function postings(tok) {
    if (Object.prototype.hasOwnProperty.call(index.terms, tok)) { return index.terms[tok]; }
    // a lone character or the start of a word: every term it begins
    var found = {};
    Object.keys(index.terms).forEach(function (t) {
      if (t.lastIndexOf(tok, 0) === 0) { index.terms[t].forEach(function (d) { found[d] = true; }); }
    });
    return Object.keys(found).map(Number);
  }
  function search(query) {
    var toks = tokens(query);
    list.textContent = "";
    if (!toks.length) { status.textContent = ""; return; }
    var hits = null;
    toks.forEach(function (tok) {
      var ids = postings(tok);
      if (hits === null) { hits = ids.slice(); }
      else { hits = hits.filter(function (d) { return ids.indexOf(d) >= 0; }); }
    });
    // pages whose title holds the query first, then the rest, each in index order
    var needle = query.normalize("NFKC").toLowerCase().trim();
    function rank(d) {
      var doc = index.docs[d];
      var title = ((lang === "en" ? doc[2] : doc[1]) || "").normalize("NFKC").toLowerCase();
      return title.indexOf(needle) >= 0 ? 0 : 1;
    }
    hits = (hits || []).sort(function (a, b) { return rank(a) - rank(b) || a - b; });
    status.textContent = hits.length ? hits.length + (lang === "zh" ? " 条结果" : " results") : status.getAttribute("data-none");
    hits.slice(0, 200).forEach(function (d) {
      var doc = index.docs[d];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + (lang === "en" ? "en/" : "") + doc[0];
      a.textContent = (lang === "en" ? doc[2] : doc[1]) || doc[1] || doc[2] || doc[0];
      li.appendChild(a);
      if (doc[3]) {
        var s = document.createElement("span");
        s.className = "snippet";
        s.lang = "zh";
        s.textContent = doc[3];
        li.appendChild(s);
      }
      list.appendChild(li);
    });
  }
  function run() {
    var q = input.value;
    var url = new URL(window.location.href);
    url.searchParams.set("q", q);
    window.history.replaceState(null, "", url.toString());
    keepQuery(q);
    search(q);
  }
  // the language switch keeps the query too
  function keepQuery(q) {
    var sw = document.getElementById("lang-switch");
    if (!sw) { return; }
    var target = new URL(sw.getAttribute("href"), window.location.href);
    target.search = q ? "?q=" + encodeURIComponent(q) : "";
    sw.setAttribute("href", target.toString());
  }
  fetch(list.getAttribute("data-index")).then(function (r) { return r.json(); }).then(function (data) {
    index = data;
    var q = new URL(window.location.href).searchParams.get("q");
    if (q) { input.value = q; keepQuery(q); search(q); }
    form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    input.addEventListener("input", run);
    document.body.setAttribute("data-search-ready", "1");
  });
})();
