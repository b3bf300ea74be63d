// Offline search over the shards of search/index.json: the same tokens and shards as toolkit/site/search.py
// (tokens(), term_key(), shard_of()); a query fetches only the shards of its tokens and of its hits' pages.
(function () {
  "use strict";
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
  var HAN1 = /^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;
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
  // 32-bit FNV-1a over code points, as fnv1a() in search.py
  function fnv1a(text) {
    var h = 0x811c9dc5;
    Array.from(text).forEach(function (ch) { h = Math.imul(h ^ ch.codePointAt(0), 0x01000193) >>> 0; });
    return h;
  }
  // as shard_of() in search.py: the high half folded into the low, modulo the number of shards
  function shardOf(key) {
    var h = fnv1a(key);
    return ((h ^ (h >>> 16)) >>> 0) % shards;
  }
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var lang = list.getAttribute("data-lang");
  var root = list.getAttribute("data-root");
  var base = new URL(list.getAttribute("data-index"), window.location.href);
  var shards = 0;
  var loaded = {};  // shard url -> promise of its JSON (each fetched once)
  function load(path) {
    var url = new URL(path, base).toString();
    if (!loaded[url]) { loaded[url] = fetch(url).then(function (r) { return r.json(); }); }
    return loaded[url];
  }
  // the term shards a token's terms are in: that of its key (first Han character, else first two
  // characters); a one-letter word may begin terms of any shard
  function termShards(tok) {
    var chars = Array.from(tok);
    if (!HAN1.test(tok) && chars.length < 2) {
      var all = [];
      for (var i = 0; i < shards; i++) { all.push(i); }
      return all;
    }
    var key = HAN1.test(tok) ? chars[0] : chars[0] + chars[1];
    return [shardOf(key)];
  }
  function postings(tok) {
    return Promise.all(termShards(tok).map(function (n) { return load("terms/" + n + ".json"); })).then(function (parts) {
      var found = {};
      parts.forEach(function (terms) {
        if (Object.prototype.hasOwnProperty.call(terms, tok)) { terms[tok].forEach(function (p) { found[p] = true; }); return; }
        // a lone character or the start of a word: every term it begins
        Object.keys(terms).forEach(function (t) {
          if (t.lastIndexOf(tok, 0) === 0) { terms[t].forEach(function (p) { found[p] = true; }); }
        });
      });
      return found;
    });
  }
  var current = 0;
  function search(query) {
    var toks = tokens(query);
    var mine = ++current;
    if (!toks.length) { list.textContent = ""; status.textContent = ""; return Promise.resolve(); }
    return Promise.all(toks.map(postings)).then(function (sets) {
      var hits = Object.keys(sets[0]).filter(function (p) {
        return sets.every(function (s) { return s[p] === true; });
      });
      var wanted = {};
      hits.forEach(function (p) { wanted[shardOf(p)] = true; });
      return Promise.all(Object.keys(wanted).map(function (n) { return load("docs/" + n + ".json"); })).then(function (parts) {
        if (mine !== current) { return; }  // a later query is under way
        var docs = {};
        parts.forEach(function (d) { Object.keys(d).forEach(function (p) { docs[p] = d[p]; }); });
        show(query, hits, docs);
      });
    });
  }
  function show(query, hits, docs) {
    list.textContent = "";
    // pages whose title holds the query first, then the rest, each in path order
    var needle = query.normalize("NFKC").toLowerCase().trim();
    function rank(p) {
      var doc = docs[p];
      var title = ((lang === "en" ? doc[1] : doc[0]) || "").normalize("NFKC").toLowerCase();
      return title.indexOf(needle) >= 0 ? 0 : 1;
    }
    hits.sort(function (a, b) { return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0); });
    status.textContent = hits.length ? hits.length + (lang === "zh" ? " 条结果" : " results") : status.getAttribute("data-none");
    hits.slice(0, 200).forEach(function (p) {
      var doc = docs[p];
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + (lang === "en" ? "en/" : "") + p;
      a.textContent = (lang === "en" ? doc[1] : doc[0]) || doc[0] || doc[1] || p;
      li.appendChild(a);
      if (doc[2]) {
        var s = document.createElement("span");
        s.className = "snippet";
        s.lang = "zh";
        s.textContent = doc[2];
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
    done(search(q));
  }
  // the body says when the results of the last query are shown (the browser tests wait for it)
  function done(promise) {
    document.body.removeAttribute("data-search-ready");
    promise.then(function () { document.body.setAttribute("data-search-ready", "1"); });
  }
  // the language switch keeps the query too
  function keepQuery(q) {
    var sw = document.getElementById("lang-switch");
    if (!sw) { return; }
    var target = new URL(sw.getAttribute("href"), window.location.href);
    target.search = q ? "?q=" + encodeURIComponent(q) : "";
    sw.setAttribute("href", target.toString());
  }
  fetch(base.toString()).then(function (r) { return r.json(); }).then(function (meta) {
    shards = meta.shards;
    var q = new URL(window.location.href).searchParams.get("q");
    form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    input.addEventListener("input", run);
    if (q) { input.value = q; keepQuery(q); done(search(q)); }
    else { document.body.setAttribute("data-search-ready", "1"); }
  });
})();
