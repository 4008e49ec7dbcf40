// report.survey: a static user-study page (paper §3.3 / §4.4): chosen faces shown with each
// system's explanation, Likert statements per system, comparison questions, a seeded order
// per participant, attention checks, and the responses downloaded as a JSON file. One HTML
// file, no network: images are data URIs, the script is inline.
#include "components.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace mien::report {

namespace fs = std::filesystem;

namespace {

// JSON inside <script type="application/json">: "</" would end the element early.
std::string script_json(const Json& j) {
  std::string s = j.dump();
  std::string o;
  o.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') o += "\\u003c";
    else o += s[i];
  }
  return o;
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string system_id_of(const std::string& report) {
  if (report == "report.geometric") return "geometric";
  if (report == "report.heatmap") return "heatmap";
  if (report == "report.sheet") return "sheet";
  return "system";
}

std::string default_name(const std::string& report) {
  if (report == "report.geometric") return "Geometric features (SHAP)";
  if (report == "report.heatmap") return "CNN heat map";
  if (report == "report.sheet") return "Side-by-side sheet";
  return report;
}

std::string slug_id(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!o.empty() && o.back() != '_') o += '_';
  }
  while (!o.empty() && o.back() == '_') o.pop_back();
  return o.empty() ? "system" : o;
}

const char* kStyle = R"CSS(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#2d3e50;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
main{padding:8px 28px 40px;max-width:1100px}section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px}.faces{display:flex;flex-wrap:wrap;gap:12px}
.face{border:1px solid #ccc;border-radius:6px;padding:8px;width:320px;background:#fff}.face img{max-width:100%;display:block;margin:4px 0}
.face pre{white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:6px}
table.likert{border-collapse:collapse;font-size:14px;margin:8px 0}table.likert td,table.likert th{border:1px solid #ddd;padding:4px 6px}
table.likert th{background:#f2f2f2;font-weight:normal;font-size:12px;width:80px}table.likert td.c{text-align:center}
tr.missing td,div.missing{background:#fde8e8}.cmp{margin:10px 0}.cmp label{margin-right:16px}
button{font-size:15px;padding:6px 14px}#status{font-weight:bold}textarea{width:100%;font-family:monospace;font-size:12px}
.hidden{display:none}
)CSS";

// The page's script: reads the questionnaire, orders systems, faces and attention items
// from a seed derived from the participant id (mulberry32 on an FNV-1a hash), renders the
// questions, checks that every one is answered, and builds the response (schema in the
// README) as a downloaded file and in a textarea.
const char* kScript = R"JS(
(function(){
'use strict';
var Q=JSON.parse(document.getElementById('mien-questionnaire').textContent);
var IMG=JSON.parse(document.getElementById('mien-images').textContent);
var state=null;
function h32(s){var h=2166136261>>>0;for(var i=0;i<s.length;i++){h^=s.charCodeAt(i);h=Math.imul(h,16777619)>>>0;}return h>>>0;}
function rng(seed){var a=seed>>>0;return function(){a=(a+0x6D2B79F5)>>>0;var t=a;t=Math.imul(t^(t>>>15),t|1);
t^=t+Math.imul(t^(t>>>7),t|61);return((t^(t>>>14))>>>0)/4294967296;};}
function shuffle(arr,r){var a=arr.slice();for(var i=a.length-1;i>0;i--){var j=Math.floor(r()*(i+1));var t=a[i];a[i]=a[j];a[j]=t;}return a;}
function el(tag,attrs,text){var e=document.createElement(tag);if(attrs){for(var k in attrs){e.setAttribute(k,attrs[k]);}}
if(text!==undefined&&text!==null){e.textContent=text;}return e;}
function sysById(id){for(var i=0;i<Q.systems.length;i++){if(Q.systems[i].id===id){return Q.systems[i];}}return null;}
function shown(id){var k=state.systems.indexOf(id);return Q.blind?('Model '+(k+1)):sysById(id).name;}
function likertRow(tbody,name,text,cls){var tr=el('tr',{'class':cls,'data-name':name});tr.appendChild(el('td',null,text));
for(var v=1;v<=Q.levels.length;v++){var td=el('td',{'class':'c'});var inp=el('input',{type:'radio',name:name,value:String(v),
'aria-label':Q.levels[v-1]});td.appendChild(inp);tr.appendChild(td);}tbody.appendChild(tr);}
function start(){
var pid=document.getElementById('participant').value.trim();
if(!pid){document.getElementById('start-msg').textContent='Please enter your participant id.';return;}
var seed=h32(Q.id+'|'+pid);var r=rng(seed);
var systems=shuffle(Q.systems.map(function(s){return s.id;}),r);var faces={},attention={};
systems.forEach(function(s){faces[s]=shuffle(Q.faces.map(function(f){return f.id;}),r);});
systems.forEach(function(s){var pos=[];for(var k=0;k<Q.attention.per_system;k++){pos.push(Math.floor(r()*(Q.statements.length+1)));}attention[s]=pos;});
state={participant:pid,seed:seed,systems:systems,faces:faces,attention:attention,started:new Date().toISOString()};
document.getElementById('participant').disabled=true;document.getElementById('start').disabled=true;
document.getElementById('start-msg').textContent='';render();}
function render(){
var root=document.getElementById('study');root.innerHTML='';
state.systems.forEach(function(sid){
var sec=el('section',{'class':'system','data-system':sid});sec.appendChild(el('h2',null,shown(sid)));
sec.appendChild(el('p',null,'How '+shown(sid)+' explains its decisions on '+Q.faces.length+' faces:'));
var wrap=el('div',{'class':'faces'});
state.faces[sid].forEach(function(fid){var face=null;for(var i=0;i<Q.faces.length;i++){if(Q.faces[i].id===fid){face=Q.faces[i];}}
var p=face.panels[sid];var card=el('div',{'class':'face','data-face':fid});card.appendChild(el('b',null,'Face '+(state.faces[sid].indexOf(fid)+1)));
p.images.forEach(function(key){var img=el('img',{alt:shown(sid)+' explanation of face '+fid,src:IMG[key]});card.appendChild(img);});
if(p.text){card.appendChild(el('pre',null,p.text));}wrap.appendChild(card);});
sec.appendChild(wrap);
sec.appendChild(el('h3',null,'How much do you agree with these statements about '+shown(sid)+'?'));
var table=el('table',{'class':'likert'});var head=el('tr');head.appendChild(el('td'));
Q.levels.forEach(function(l){head.appendChild(el('th',null,l));});table.appendChild(head);
var items=Q.statements.map(function(s){return {kind:'s',s:s};});
var pos=state.attention[sid].slice().sort(function(a,b){return b-a;});
pos.forEach(function(p,k){items.splice(p,0,{kind:'a',k:pos.length-1-k});});
items.forEach(function(it){if(it.kind==='s'){likertRow(table,'rate|'+sid+'|'+it.s.id,it.s.text,'statement');}
else{likertRow(table,'attn|'+sid+'|'+it.k,Q.attention.text,'statement attention');}});
sec.appendChild(table);root.appendChild(sec);});
if(Q.comparisons.length>0){var cs=el('section',{'class':'comparisons'});cs.appendChild(el('h2',null,'Comparing the models'));
Q.comparisons.forEach(function(c){var d=el('div',{'class':'cmp','data-name':'cmp|'+c.id});d.appendChild(el('p',null,c.text));
state.systems.concat(['none']).forEach(function(v){var lab=el('label');var inp=el('input',{type:'radio',name:'cmp|'+c.id,value:v});
lab.appendChild(inp);lab.appendChild(document.createTextNode(' '+(v==='none'?'No difference':shown(v))));d.appendChild(lab);});cs.appendChild(d);});
root.appendChild(cs);}
var fin=el('section',{'class':'finish'});fin.appendChild(el('h2',null,'Finish'));
fin.appendChild(el('p',null,'Comments (optional):'));fin.appendChild(el('textarea',{id:'comment',rows:'3'}));
var b=el('button',{id:'download',type:'button'},'Download my responses');b.addEventListener('click',download);fin.appendChild(b);
fin.appendChild(el('p',{id:'status'}));
fin.appendChild(el('p',null,'If the download does not work, copy the text below and send it instead:'));
fin.appendChild(el('textarea',{id:'responses-json',rows:'8',readonly:'readonly'}));root.appendChild(fin);}
function value(name){var c=document.querySelector('input[name="'+name.replace(/"/g,'\\"')+'"]:checked');return c?c.value:null;}
function collect(){
var missing=[],ratings=[],attention=[],comparisons=[];
var rows=document.querySelectorAll('[data-name]');
for(var i=0;i<rows.length;i++){var name=rows[i].getAttribute('data-name');var v=value(name);
rows[i].classList.toggle('missing',v===null);if(v===null){missing.push(rows[i]);continue;}var p=name.split('|');
if(p[0]==='rate'){ratings.push({system:p[1],statement:p[2],value:parseInt(v,10)});}
else if(p[0]==='attn'){var val=parseInt(v,10);attention.push({system:p[1],item:parseInt(p[2],10),expected:Q.attention.expected,value:val,passed:val===Q.attention.expected});}
else if(p[0]==='cmp'){comparisons.push({question:p[1],choice:v});}}
if(missing.length>0){return {missing:missing};}
return {response:{format:'mien-survey-response',version:1,survey:{id:Q.id,title:Q.title},participant:state.participant,
seed:state.seed,started:state.started,submitted:new Date().toISOString(),levels:Q.levels,
systems:Q.systems.map(function(s){return {id:s.id,name:s.name,shown_as:'Model '+(state.systems.indexOf(s.id)+1)};}),
statements:Q.statements,comparisons_asked:Q.comparisons,
order:{systems:state.systems,faces:state.faces},ratings:ratings,comparisons:comparisons,attention:attention,
comment:document.getElementById('comment').value}};}
function download(){
var st=document.getElementById('status');var c=collect();
if(c.missing){st.textContent='Please answer every question: '+c.missing.length+' unanswered (marked in red).';
c.missing[0].scrollIntoView();return;}
var text=JSON.stringify(c.response,null,2);document.getElementById('responses-json').value=text;
var blob=new Blob([text],{type:'application/json'});var url=URL.createObjectURL(blob);
var a=el('a',{href:url,download:'survey-'+state.participant.replace(/[^A-Za-z0-9_.-]/g,'_')+'.json'});a.className='hidden';
document.body.appendChild(a);a.click();setTimeout(function(){URL.revokeObjectURL(url);a.remove();},1000);
st.textContent='Thank you. Your responses were downloaded as '+a.getAttribute('download')+'.';}
document.getElementById('start').addEventListener('click',start);
document.getElementById('participant').addEventListener('keydown',function(e){if(e.key==='Enter'){start();}});
})();
)JS";

}  // namespace

Json SurveyReport::default_statements() {
  const char* texts[] = {
      "The output representations help me understand how the model works.",
      "The output representations of how the model works are satisfying.",
      "The output representations are sufficiently detailed.",
      "The output representations let me know how confident the model is for individual predictions.",
      "The output representations let me know how trustworthy the model is.",
      "I found the output representations unnecessarily complex.",
      "I think I would need an expert to give me additional explanations.",
      "The outputs of the model are very predictable.",
      "The model can perform the task better than a novice human.",
      "I am confident in the model. I believe it works well."};
  Json out = Json::array();
  for (int i = 0; i < 10; ++i) out.push_back({{"text", texts[i]}, {"reverse", i == 5 || i == 6}});
  return out;
}

Json SurveyReport::default_comparisons() {
  return Json::array({"Which model's explanations were more understandable?",
                      "Which model's explanations helped you more to understand why a face was classified as it was?",
                      "Which model's explanations would you rather use?", "Which model do you trust more?"});
}

SurveyReport::SurveyReport(const Setup& s)
    : names_(kNames.read(s.params())),
      ids_(kIds.read(s.params())),
      levels_(kLevels.read(s.params())),
      samples_(kSamples.read(s.params())),
      attention_(kAttention.read(s.params())),
      blind_(kBlind.read(s.params())),
      show_text_(kShowText.read(s.params())),
      show_probs_(kShowProbabilities.read(s.params())),
      title_(kTitle.read(s.params())),
      intro_(kIntro.read(s.params())),
      node_(s.node_name()),
      seed_(s.seed()) {
  const std::string who = "report.survey (node '" + node_ + "')";
  if (levels_.size() < 2) throw Error(who + ": parameter 'levels' needs at least two Likert levels, e.g. the default five");
  const Json st = s.params().has("statements") ? s.params().json().at("statements") : default_statements();
  if (!st.is_array()) throw Error(who + ": parameter 'statements' must be a list of strings or {text, reverse} objects");
  statements_ = Json::array();
  for (size_t i = 0; i < st.size(); ++i) {
    const Json& e = st[i];
    Json item = {{"id", "s" + std::to_string(i + 1)}};
    if (e.is_string()) {
      item["text"] = e.get<std::string>();
      item["reverse"] = false;
    } else if (e.is_object() && e.contains("text") && e["text"].is_string()) {
      item["text"] = e["text"].get<std::string>();
      item["reverse"] = e.contains("reverse") && e["reverse"].is_boolean() && e["reverse"].get<bool>();
    } else {
      throw Error(who + ": statements[" + std::to_string(i) + "] must be a string or {text: ..., reverse: true|false}, got " +
                  e.dump());
    }
    statements_.push_back(item);
  }
  if (statements_.empty()) throw Error(who + ": parameter 'statements' is empty; give at least one (or null for the paper's ten)");
  const Json cm = s.params().has("comparisons") ? s.params().json().at("comparisons") : default_comparisons();
  if (!cm.is_array()) throw Error(who + ": parameter 'comparisons' must be a list of strings ([] for none)");
  comparisons_ = Json::array();
  for (size_t i = 0; i < cm.size(); ++i) {
    if (!cm[i].is_string()) throw Error(who + ": comparisons[" + std::to_string(i) + "] must be a string, got " + cm[i].dump());
    comparisons_.push_back({{"id", "c" + std::to_string(i + 1)}, {"text", cm[i].get<std::string>()}});
  }
}

void SurveyReport::process(Context& ctx) {
  const Host& host = ctx.host();
  const std::string who = "report.survey (node '" + node_ + "')";
  const uint32_t n_sys = ctx.count(kSystems);
  if (n_sys < 1) throw Error(who + ": input 'systems' needs the explanations of at least one report (two for comparisons)");
  if (!names_.empty() && names_.size() != n_sys)
    throw Error(who + ": parameter 'names' has " + std::to_string(names_.size()) + " name(s) but 'systems' has " +
                std::to_string(n_sys) + " input(s); give one name per system or none");

  // ---- the systems and their per-face records
  struct Sys {
    std::string id, name, report, node;
    Json ex;
    std::map<std::string, const Json*> by_id;
  };
  std::vector<Sys> systems(n_sys);
  std::set<std::string> used;
  for (uint32_t i = 0; i < n_sys; ++i) {
    Sys& s = systems[i];
    try {
      s.ex = ctx.json(kSystems, i);
    } catch (const std::exception& e) {
      throw Error(who + ": systems[" + std::to_string(i) + "] is not valid JSON: " + e.what());
    }
    if (!s.ex.is_object() || !s.ex.contains("samples") || !s.ex["samples"].is_array())
      throw Error(who + ": systems[" + std::to_string(i) +
                  "] is not a report's explanations (no 'samples' list); connect report.geometric / report.heatmap / "
                  "report.sheet's 'explanations' output");
    s.report = s.ex.value("report", std::string("report"));
    s.node = s.ex.value("node", std::string());
    s.name = names_.empty() ? default_name(s.report) : names_[i];
    std::string id = names_.empty() ? system_id_of(s.report) : slug_id(s.name);
    const std::string base = id;
    for (int k = 2; used.count(id); ++k) id = base + "_" + std::to_string(k);
    used.insert(id);
    s.id = id;
    for (const auto& r : s.ex["samples"])
      if (r.is_object() && r.contains("id") && r["id"].is_string()) s.by_id.emplace(r["id"].get<std::string>(), &r);
  }

  // ---- the faces: ids every system explains, in the first system's order
  std::vector<std::string> common;
  for (const auto& r : systems[0].ex["samples"]) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string()) continue;
    const std::string id = r["id"].get<std::string>();
    bool all = true;
    for (const auto& s : systems) all = all && s.by_id.count(id);
    if (all && std::find(common.begin(), common.end(), id) == common.end()) common.push_back(id);
  }
  std::vector<std::string> chosen;
  if (!ids_.empty()) {
    for (const auto& id : ids_) {
      for (const auto& s : systems)
        if (!s.by_id.count(id)) {
          std::string have;
          for (size_t k = 0; k < std::min<size_t>(common.size(), 8); ++k) have += (k ? ", " : "") + common[k];
          throw Error(who + ": parameter 'ids' names '" + id + "', which system '" + s.name +
                      "' did not explain; ids all systems explain: " + (have.empty() ? "(none)" : have));
        }
      chosen.push_back(id);
    }
  } else {
    if (common.empty())
      throw Error(who + ": the systems explain no face in common (faces are matched by 'id'); render the same samples "
                        "in each report (e.g. the same 'samples' and input table) or list 'ids'");
    // A seeded choice (Fisher-Yates on mt19937_64, whose output the standard fixes), kept
    // in the reports' order.
    std::vector<size_t> idx(common.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::mt19937_64 rng(seed_);
    for (size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
    idx.resize(std::min<size_t>(idx.size(), static_cast<size_t>(samples_)));
    std::sort(idx.begin(), idx.end());
    for (size_t i : idx) chosen.push_back(common[i]);
    if (common.size() < static_cast<size_t>(samples_))
      host.warn(who + ": only " + std::to_string(common.size()) + " face(s) are explained by every system; 'samples' asked for " +
                std::to_string(samples_));
  }

  // ---- images (deduplicated by path) and the questionnaire
  const std::string run_dir = host.run_dir();
  Json images = Json::object();
  std::map<std::string, std::string> key_of_path;
  Json faces = Json::array();
  for (const auto& id : chosen) {
    Json face = {{"id", id}, {"panels", Json::object()}};
    for (const auto& s : systems) {
      const Json& r = *s.by_id.at(id);
      if (!face.contains("true") && r.contains("true") && r["true"].is_string()) face["true"] = r["true"];
      Json panel = {{"images", Json::array()}};
      std::vector<std::string> keys = {"explanation"};
      if (show_probs_) keys.push_back("probabilities");
      for (const auto& k : keys) {
        if (!r.contains("files") || !r["files"].is_object() || !r["files"].contains(k) || !r["files"][k].is_string()) {
          if (k == "explanation")
            throw Error(who + ": face '" + id + "' of system '" + s.name + "' has no files.explanation in its record");
          continue;
        }
        const std::string file = r["files"][k].get<std::string>();
        const std::string path = find_report_file(run_dir, s.ex, file);
        if (path.empty())
          throw Error(who + ": image '" + file + "' of face '" + id + "' (system '" + s.name + "', node '" + s.node +
                      "') was not found under the run folder or '" + s.ex.value("dir", std::string()) + "'");
        auto it = key_of_path.find(path);
        if (it == key_of_path.end()) {
          const std::string key = "img" + std::to_string(key_of_path.size());
          images[key] = "data:image/png;base64," + base64(read_file(path));
          it = key_of_path.emplace(path, key).first;
        }
        panel["images"].push_back(it->second);
      }
      if (show_text_ && r.contains("text") && r["text"].is_string()) panel["text"] = r["text"];
      if (r.contains("predicted")) panel["predicted"] = r["predicted"];
      face["panels"][s.id] = panel;
    }
    faces.push_back(face);
  }

  Json sys_json = Json::array();
  for (const auto& s : systems) sys_json.push_back({{"id", s.id}, {"name", s.name}, {"report", s.report}, {"node", s.node}});
  // Attention checks ask for the second-highest level ("Agree" on the default scale).
  const int expected = levels_.size() >= 4 ? static_cast<int>(levels_.size()) - 1 : static_cast<int>(levels_.size());
  Json q = {{"format", "mien-survey"},
            {"version", 1},
            {"title", title_},
            {"intro", intro_},
            {"levels", levels_},
            {"blind", blind_},
            {"statements", statements_},
            {"comparisons", comparisons_},
            {"attention",
             {{"per_system", attention_},
              {"expected", expected},
              {"text", "This is an attention check: please select \"" + levels_[static_cast<size_t>(expected - 1)] +
                           "\" for this item."}}},
            {"systems", sys_json},
            {"faces", faces}};
  // The id names this exact questionnaire (and images), so summaries can refuse to mix
  // responses to different studies.
  std::string image_bytes;
  for (auto it = images.begin(); it != images.end(); ++it) image_bytes += it.value().get<std::string>();
  char idbuf[32];
  std::snprintf(idbuf, sizeof idbuf, "%016llx",
                static_cast<unsigned long long>(fnv1a64(q.dump() + "|" + std::to_string(fnv1a64(image_bytes)))));
  q["id"] = idbuf;

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << esc(title_) << "</title>\n<style>"
       << kStyle << "</style>\n</head>\n<body>\n<header><h1>" << esc(title_) << "</h1></header>\n<main>\n"
       << "<section id=\"intro\"><p>" << esc(intro_) << "</p><p><label for=\"participant\">Participant id: </label>"
       << "<input id=\"participant\" type=\"text\" autocomplete=\"off\"> <button id=\"start\" type=\"button\">Start</button> "
       << "<span id=\"start-msg\"></span></p><noscript><p>This study needs JavaScript.</p></noscript></section>\n"
       << "<div id=\"study\"></div>\n</main>\n"
       << "<script type=\"application/json\" id=\"mien-questionnaire\">" << script_json(q) << "</script>\n"
       << "<script type=\"application/json\" id=\"mien-images\">" << script_json(images) << "</script>\n"
       << "<script>" << kScript << "</script>\n</body>\n</html>\n";
  const std::string out_dir = host.output_dir();
  fs::create_directories(out_dir);
  write_file(out_dir + "/survey.html", html.str());
  write_file(out_dir + "/questionnaire.json", q.dump(2) + "\n");
  host.info(who + ": " + std::to_string(chosen.size()) + " face(s) x " + std::to_string(n_sys) + " system(s), " +
            std::to_string(statements_.size()) + " statement(s), " + std::to_string(comparisons_.size()) +
            " comparison(s); nodes/" + folder_name(node_) + "/files/survey.html");
  ctx.set_text(kHtml, "nodes/" + folder_name(node_) + "/files/survey.html");
  ctx.set(kQuestionnaire, q);
}

}  // namespace mien::report
