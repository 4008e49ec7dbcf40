#!/usr/bin/env python3
"""The real-browser test (tests/browser/README.md).

Runs tests/browser/browser.yaml with mien, then drives headless Chromium over the DevTools
protocol (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4) with the network
blocked: report.html must load without console errors or non-local requests, show its
sections, a rendered chart and loaded images, and filter its gallery; survey.html is
filled in through DOM clicks, its responses downloaded, and `mien survey summarize` reads
them back with a second (synthetic) participant and one who fails the attention check.
Python standard library only. Exit 0 = pass, anything else = fail (never a skip).
"""
import argparse
import base64
import copy
import csv
import fcntl
import glob
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


class Chromium:
    """A headless Chromium driven over --remote-debugging-pipe."""

    def __init__(self, binary, profile):
        to_r, to_w = os.pipe()      # we write commands, Chromium reads fd 3
        from_r, from_w = os.pipe()  # Chromium writes fd 4, we read
        # Move Chromium's ends above 3/4 first so the dup2 below cannot clobber them.
        hi_r = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
        os.close(to_r)
        os.close(from_w)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--no-default-browser-check", "--disable-dev-shm-usage", "--disable-extensions", "--disable-sync",
                "--disable-component-update", "--disable-default-apps", "--mute-audio",
                "--user-data-dir=" + profile, "--remote-debugging-pipe",
                # No network: every host name fails to resolve and any proxy use goes nowhere.
                "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                "--allow-file-access-from-files", "about:blank"]
        self.log = open(os.path.join(profile, "..", "chromium-stderr.txt"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     # close_fds=False keeps the inheritable 3 and 4 made by dup2;
                                     # every other descriptor Python opens is close-on-exec.
                                     preexec_fn=child_fds, close_fds=False)
        os.close(hi_r)
        os.close(hi_w)
        self.out = os.fdopen(to_w, "wb", buffering=0)
        self.inp = os.fdopen(from_r, "rb", buffering=0)
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.cv = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.inp.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                with self.cv:
                    if "id" in m:
                        self.replies[m["id"]] = m
                    else:
                        self.events.append(m)
                    self.cv.notify_all()

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        i = self.next_id
        m = {"id": i, "method": method, "params": params or {}}
        if session:
            m["sessionId"] = session
        self.out.write(json.dumps(m).encode() + b"\0")
        deadline = time.time() + timeout
        with self.cv:
            while i not in self.replies:
                if not self.cv.wait(timeout=max(0.0, deadline - time.time())) and time.time() >= deadline:
                    raise TimeoutError(method + " got no reply in %d s" % timeout)
            r = self.replies.pop(i)
        if "error" in r:
            raise RuntimeError(method + ": " + json.dumps(r["error"]))
        return r.get("result", {})

    def wait_event(self, method, session, since, timeout=60):
        deadline = time.time() + timeout
        with self.cv:
            while True:
                for e in self.events[since:]:
                    if e.get("method") == method and e.get("sessionId") == session:
                        return e
                if time.time() >= deadline:
                    raise TimeoutError("no " + method + " in %d s" % timeout)
                self.cv.wait(timeout=0.5)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Page:
    def __init__(self, browser, width=1200, height=900):
        self.b = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(domain + ".enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def send(self, method, params=None, timeout=60):
        return self.b.send(method, params, self.session, timeout)

    def goto(self, url):
        since = len(self.b.events)
        self.send("Page.navigate", {"url": url})
        self.b.wait_event("Page.loadEventFired", self.session, since)

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("script failed: " + json.dumps(r["exceptionDetails"])[:500] + "\n" + expr[:300])
        return r["result"].get("value")

    def screenshot(self, path, clip=None, limit=200 * 1024):
        # Scale down until the PNG is under the size limit (the docs keep them small).
        for scale in (1.0, 0.8, 0.65, 0.5, 0.4, 0.3):
            params = {"format": "png", "captureBeyondViewport": False}
            if clip:
                params["clip"] = dict(clip, scale=scale)
            else:
                w, h = self.js("[window.innerWidth, window.innerHeight]")
                params["clip"] = {"x": 0, "y": self.js("window.scrollY"), "width": w, "height": h, "scale": scale}
            data = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
            if len(data) <= limit:
                break
        with open(path, "wb") as f:
            f.write(data)
        return data


def problems(browser):
    """Console errors, exceptions and requests that leave the machine, from all events."""
    out = []
    for e in list(browser.events):
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("exception: " + d.get("text", "") + " " + json.dumps(d.get("exception", {}).get("description", ""))[:300])
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.%s: %s" % (p.get("type"), json.dumps(p.get("args", []))[:300]))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log error: " + p["entry"].get("text", "") + " " + p["entry"].get("url", ""))
        elif m == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not url.startswith(("file:", "data:", "blob:", "about:")):
                out.append("network request: " + url)
    return out


def check_paper(paper, work):
    """paper/: every figure as SVG, PDF and PNG; every table as CSV, Markdown and balanced LaTeX."""
    names = sorted(os.listdir(paper)) if os.path.isdir(paper) else []
    print("paper/:", " ".join(names))
    stems = {os.path.splitext(n)[0] for n in names if n.endswith(".svg")}
    check(len(stems) >= 2 and all(s + ".pdf" in names and s + ".png" in names for s in stems),
          "every figure as SVG, PDF and PNG (%d figures)" % len(stems))
    for s in stems:
        with open(os.path.join(paper, s + ".pdf"), "rb") as f:
            if not f.read(5) == b"%PDF-":
                check(False, s + ".pdf is a PDF")
    tex = [n for n in names if n.endswith(".tex")]
    check(len(tex) >= 2 and all(n[:-4] + ".csv" in names and n[:-4] + ".md" in names for n in tex),
          "every table as CSV, Markdown and LaTeX (%d tables)" % len(tex))
    check("figures.md" in names, "figures.md index")
    import re
    bad = []
    for n in tex:
        stack = []
        with open(os.path.join(paper, n)) as f:
            text = f.read()
        for kind, env in re.findall(r"\\(begin|end)\{([a-z*]+)\}", text):
            if kind == "begin":
                stack.append(env)
            elif not stack or stack.pop() != env:
                bad.append(n)
        if stack or "\\toprule" not in text or "\\bottomrule" not in text:
            bad.append(n)
    check(not bad, "LaTeX tables: balanced environments and booktabs rules (%s)" % (bad or "all %d" % len(tex)))
    pdflatex = shutil.which("pdflatex")
    if pdflatex and tex:
        doc = os.path.join(work, "tables.tex")
        with open(doc, "w") as f:
            f.write("\\documentclass{article}\n\\usepackage{booktabs}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n\\begin{document}\n")
            for n in tex:
                f.write("\\input{%s}\n" % os.path.join(paper, n))
            f.write("\\end{document}\n")
        r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-output-directory", work, doc],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
        check(r.returncode == 0, "pdflatex compiles the tables" + ("" if r.returncode == 0 else ": " + r.stdout[-500:]))
    else:
        print("pdflatex not installed: the tables were checked for balanced environments only")


def run_experiment(args, work):
    run_dir = os.path.join(work, "run")
    t0 = time.time()
    r = subprocess.run([args.mien, "run", args.config, "--out", run_dir, "--threads", "2"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    secs = time.time() - t0
    print(r.stdout[-3000:])
    if not check(r.returncode == 0, "mien run %s (%.1f s)" % (os.path.basename(args.config), secs)):
        sys.exit(1)
    check(secs < 120, "the experiment ran in under two minutes (%.1f s)" % secs)
    return run_dir


def test_report(page, browser, report, shots):
    page.goto("file://" + report)
    info = page.js("""(function(){
      var h = Array.prototype.map.call(document.querySelectorAll('section > h2'), function(e){ return e.textContent; });
      var charts = Array.prototype.filter.call(document.querySelectorAll('svg.chart'), function(s){
        var r = s.getBoundingClientRect();
        return r.width > 100 && r.height > 50 && s.querySelectorAll('polyline, rect').length > 1; }).length;
      var imgs = Array.prototype.slice.call(document.images);
      return {title: document.title, sections: h, charts: charts, images: imgs.length,
              loaded: imgs.filter(function(i){ return i.complete && i.naturalWidth > 0; }).length,
              polyline: Array.prototype.some.call(document.querySelectorAll('svg.chart polyline'), function(p){
                return p.getTotalLength() > 10; })};
    })()""")
    print("report:", json.dumps(info)[:600])
    check(info["title"] == "mien browser test", "report title")
    for sec in ("Results", "Classification by arm", "Fidelity and explanation accuracy", "Feature importance",
                "Explained faces", "Run details"):
        check(any(s.startswith(sec) for s in info["sections"]), "report section '%s'" % sec)
    # Results first: the comparison table is on the first screen (1400 x 900), and the run
    # details come last, collapsed.
    top = page.js("""(function(){ var t = document.querySelector('table.compare'); if (!t) return null;
      var r = t.getBoundingClientRect(); return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY,
      w: window.innerWidth, h: window.innerHeight, rows: t.rows.length,
      last: document.querySelector('main > section:last-of-type > h2').textContent,
      openDetails: document.querySelectorAll('section.run details[open]').length}; })()""")
    print("comparison table:", json.dumps(top))
    check(top is not None and top["w"] == 1400 and top["h"] == 900 and top["top"] < 900 and top["rows"] >= 2,
          "the comparison table starts on the first screen (top at %s px of 900)" % (top and round(top["top"])))
    check(top is not None and top["last"] == "Run details" and top["openDetails"] == 0, "run details last and collapsed")
    # Every subsection of a matrix copy names its binding (pose S, ...) in its title.
    subs = page.js("""Array.prototype.map.call(document.querySelectorAll('div.sub'), function(d){
      return [d.querySelector('h3').textContent, d.getAttribute('data-binding')]; })""")
    bound = [t for t, b in subs if b]
    unnamed = [t for t, b in subs if b and b not in t]
    check(not unnamed, "every section title of a matrix copy names its binding (%d bound, unnamed: %s)" % (len(bound), unnamed))
    # ... and every explanation-quality section names its explainer (browser.yaml has no matrix;
    # the report's unit tests cover pose bindings).
    ex = page.js("""Array.prototype.map.call(document.querySelectorAll('section.fidelity h3, section.importance h3'),
      function(h){ return h.textContent; })""")
    check(len(ex) >= 2 and all("deep_shap" in t for t in ex), "explainer named in each quality section title: %s" % ex)
    # No table cell holds raw JSON (that lives in the "data" details only).
    raw = page.js("""Array.prototype.filter.call(document.querySelectorAll('td'), function(td){
      var t = td.textContent.trim(); return /^[\[{]/.test(t) || t.indexOf('":') >= 0; }).map(function(td){ return td.textContent.slice(0, 80); })""")
    check(not raw, "no table cell holds raw JSON (%d: %s)" % (len(raw), raw[:3]))
    status = page.js("document.querySelector('header .status').textContent")
    check("running" not in status and status.startswith("Status: finished"), "true status: " + status[:80])
    links = page.js("Array.prototype.map.call(document.querySelectorAll('a[href^=\"nodes/\"]'), function(a){ return a.getAttribute('href'); })")
    base = os.path.dirname(report)
    missing = [l for l in links if not os.path.exists(os.path.join(base, l))]
    check(len(links) >= 10 and not missing, "paper export links resolve (%d links, missing %s)" % (len(links), missing[:3]))
    check(info["charts"] >= 2, "rendered SVG charts (%d)" % info["charts"])
    check(info["polyline"], "a line chart with a drawn curve")
    check(info["images"] >= 2 and info["loaded"] == info["images"], "every image loaded (%d of %d)" % (info["loaded"], info["images"]))
    # The gallery filter: choosing a class shows exactly that class's cards.
    f = page.js("""(function(){
      var g = document.querySelector('div[id^="gallery"]'); var sel = g.querySelector('select[name="class"]');
      var value = sel.options[1].value; sel.value = value; sel.dispatchEvent(new Event('change'));
      var cards = g.querySelectorAll('.card'); var shown = 0, wrong = 0;
      for (var i = 0; i < cards.length; i++) { var vis = cards[i].style.display !== 'none';
        if (vis) shown++; if (vis !== (cards[i].getAttribute('data-class') === value)) wrong++; }
      var count = g.querySelector('.count').textContent;
      sel.value = ''; sel.dispatchEvent(new Event('change'));
      return {value: value, total: cards.length, shown: shown, wrong: wrong, count: count};
    })()""")
    check(f["wrong"] == 0 and 0 < f["shown"] < f["total"] and f["count"] == "%d shown" % f["shown"],
          "gallery filter class=%s shows %d of %d cards" % (f["value"], f["shown"], f["total"]))
    page.js("window.scrollTo(0, 0)")
    data = page.screenshot(os.path.join(shots, "report_top.png"))
    check(data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, "report screenshot (%d bytes)" % len(data))
    y = page.js("(function(){ var g = document.querySelector('div[id^=\"gallery\"]').parentNode;"
                " g.scrollIntoView(); return window.scrollY; })()")
    page.screenshot(os.path.join(shots, "report_gallery.png"))
    print("gallery at y =", y)


def fill_survey(page, participant):
    page.js("document.getElementById('participant').value = %s; document.getElementById('start').click(); 0" % json.dumps(participant))
    return page.js("""(function(){
      var levels = Array.prototype.map.call(document.querySelector('table.likert').querySelectorAll('th'),
                                            function(t){ return t.textContent; });
      var rows = document.querySelectorAll('[data-name]'); var clicks = 0, attention = 0;
      for (var i = 0; i < rows.length; i++) {
        var name = rows[i].getAttribute('data-name'); var parts = name.split('|'); var value;
        if (parts[0] === 'attn') {
          // Read the requested level from the item's text, as a person would.
          var m = /select "([^"]+)"/.exec(rows[i].textContent); value = String(levels.indexOf(m[1]) + 1); attention++;
        } else if (parts[0] === 'rate') {
          var k = parseInt(parts[2].slice(1), 10);
          value = String(parts[1].indexOf('geometric') === 0 ? 4 + (k % 2) : 2 + (k % 2));
        } else {  // comparisons: the geometric system
          value = Array.prototype.map.call(rows[i].querySelectorAll('input'), function(x){ return x.value; })
                  .filter(function(v){ return v.indexOf('geometric') === 0; })[0];
        }
        var input = rows[i].querySelector('input[value="' + value + '"]'); input.click(); clicks++;
      }
      return {clicks: clicks, attention: attention, levels: levels,
              faces: document.querySelectorAll('.face').length,
              images: Array.prototype.filter.call(document.images, function(i){ return i.naturalWidth > 0; }).length,
              allImages: document.images.length};
    })()""")


def test_survey(page, browser, survey, work, shots):
    downloads = os.path.join(work, "downloads")
    os.makedirs(downloads, exist_ok=True)
    browser.send("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads, "eventsEnabled": True})
    page.goto("file://" + survey)
    q = page.js("JSON.parse(document.getElementById('mien-questionnaire').textContent)")
    # Nothing answered yet: the download refuses and says how many are missing.
    page.js("document.getElementById('participant').value = 'browser-1'; document.getElementById('start').click(); 0")
    page.js("document.getElementById('download').click(); 0")
    status = page.js("document.getElementById('status').textContent")
    n_items = len(q["systems"]) * (len(q["statements"]) + q["attention"]["per_system"]) + len(q["comparisons"])
    check(("%d unanswered" % n_items) in status, "download refused while unanswered: " + status)
    page.goto("file://" + survey)
    filled = fill_survey(page, "browser-1")
    print("survey:", json.dumps(filled))
    check(filled["clicks"] == n_items, "every question answered by clicks (%d)" % filled["clicks"])
    check(filled["attention"] == 2, "two attention checks (one per system)")
    check(filled["faces"] == len(q["faces"]) * len(q["systems"]) == 6, "3 faces x 2 systems shown")
    check(filled["allImages"] > 0 and filled["images"] == filled["allImages"], "survey images loaded (%d)" % filled["images"])
    # The screenshot: the end of the first system's faces and its statements.
    page.js("window.scrollTo(0, document.querySelector('table.likert').getBoundingClientRect().top + window.scrollY - 420); 0")
    page.screenshot(os.path.join(shots, "survey.png"))
    page.js("document.getElementById('download').click(); 0")
    target = os.path.join(downloads, "survey-browser-1.json")
    deadline = time.time() + 30
    while time.time() < deadline and not os.path.exists(target):
        time.sleep(0.2)
    if not check(os.path.exists(target), "the response file was downloaded: " + target):
        print("downloads folder:", os.listdir(downloads))
        return None
    time.sleep(0.3)
    with open(target) as f:
        resp = json.load(f)
    shown = json.loads(page.js("document.getElementById('responses-json').value"))
    check(shown == resp, "the textarea holds the same JSON as the file")
    check(resp["format"] == "mien-survey-response" and resp["version"] == 1 and resp["survey"]["id"] == q["id"],
          "response format, version and survey id")
    check(len(resp["ratings"]) == 20 and all(a["passed"] for a in resp["attention"]), "20 ratings, attention passed")
    # The order is reproducible from the participant id: a fresh page gives the same one.
    page.goto("file://" + survey)
    page.js("document.getElementById('participant').value = 'browser-1'; document.getElementById('start').click(); 0")
    order = page.js("""(function(){ var o = {systems: [], faces: {}};
      Array.prototype.forEach.call(document.querySelectorAll('section.system'), function(s){
        var id = s.getAttribute('data-system'); o.systems.push(id);
        o.faces[id] = Array.prototype.map.call(s.querySelectorAll('.face'), function(f){ return f.getAttribute('data-face'); }); });
      return o; })()""")
    check(order == resp["order"], "same participant id, same order of systems and faces")
    return target


def test_summarize(args, page, browser, first, work):
    with open(first) as f:
        r1 = json.load(f)
    r2 = copy.deepcopy(r1)
    r2["participant"] = "synthetic-2"
    for r in r2["ratings"]:
        r["value"] = 5 if r["system"] == "geometric_features" else 1
    r3 = copy.deepcopy(r1)
    r3["participant"] = "inattentive-3"
    for a in r3["attention"]:
        a["value"] = 1
        a["passed"] = False
    files = [first]
    for r in (r2, r3):
        p = os.path.join(work, "downloads", r["participant"] + ".json")
        with open(p, "w") as f:
            json.dump(r, f)
        files.append(p)
    out = os.path.join(work, "summary")
    res = subprocess.run([args.mien, "survey", "summarize"] + files + ["--out", out], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=60)
    print(res.stdout)
    if not check(res.returncode == 0, "mien survey summarize exits 0"):
        return
    check("2 of 3 participant(s) included" in res.stdout and "inattentive-3" in res.stdout, "attention failure excluded and reported")
    with open(os.path.join(out, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    s1 = [r for r in rows if r["question"] == "s1" and r["system"] == "geometric_features"]
    # browser-1 gave s1 of the geometric system 4 + (1 % 2) = 5, synthetic-2 gave 5.
    check(len(rows) == 22 and len(s1) == 1 and s1[0]["n"] == "2" and s1[0]["count_5"] == "2" and s1[0]["mean"] == "5.000000",
          "summary.csv: 10 statements + overall per system, s1 geometric = 5, 5")
    with open(os.path.join(out, "wilcoxon.csv")) as f:
        w = list(csv.DictReader(f))
    check(len(w) == 11 and all(x["n_pairs"] == "2" for x in w) and w[-1]["question"] == "overall",
          "wilcoxon.csv: 10 statements + overall, 2 pairs each")
    with open(os.path.join(out, "participants.csv")) as f:
        parts = list(csv.DictReader(f))
    check([p["included"] for p in parts] == ["true", "true", "false"], "participants.csv marks the excluded one")
    page.goto("file://" + os.path.join(out, "summary.html"))
    n = page.js("document.querySelectorAll('h2').length")
    check(n >= 3, "summary.html opens with its sections (%d)" % n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mien", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--work", required=True, help="scratch folder (emptied first)")
    ap.add_argument("--screenshots", help="where to put the PNGs (default: WORK/screenshots)")
    args = ap.parse_args()
    chromium = shutil.which(args.chromium) or (args.chromium if os.path.exists(args.chromium) else None)
    if not chromium:
        print("FAIL chromium not found ('%s'): install the Debian package chromium (setup.sh lists it)" % args.chromium)
        return 1
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    shots = os.path.abspath(args.screenshots or os.path.join(work, "screenshots"))
    os.makedirs(shots, exist_ok=True)
    run_dir = run_experiment(args, work)
    report = os.path.join(run_dir, "report.html")
    survey = os.path.join(run_dir, "nodes", "survey", "files", "survey.html")
    check(os.path.exists(report) and os.path.exists(survey), "report.html and survey.html were written")
    check_paper(os.path.join(run_dir, "nodes", "report", "files", "paper"), work)
    os.makedirs(os.path.join(work, "profile"))
    browser = Chromium(chromium, os.path.join(work, "profile"))
    try:
        version = browser.send("Browser.getVersion", timeout=60)
        print("browser:", version.get("product"))
        page = Page(browser, width=1400, height=900)
        test_report(page, browser, report, shots)
        first = test_survey(page, browser, survey, work, shots)
        if first:
            test_summarize(args, page, browser, first, work)
    except Exception as e:  # a protocol failure is a test failure, with its message
        check(False, "browser session: %s: %s" % (type(e).__name__, e))
    finally:
        browser.close()
    bad = problems(browser)
    for p in bad:
        print("  " + p)
    check(not bad, "no console errors, exceptions or network requests (%d)" % len(bad))
    for p in sorted(glob.glob(os.path.join(shots, "*.png"))):
        print("screenshot %s (%d bytes)" % (p, os.path.getsize(p)))
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
