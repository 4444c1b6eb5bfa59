// What a TA sees, measured by headless Chromium (tests/test_ta_pages.py). The wrapper page
// loads the page under test in a same-folder iframe #page sized as a laptop's screen and
// calls measure() from the iframe's load event, before the wrapper's own load event ends,
// so --dump-dom prints the figures: JSON in #figures. The page under test runs no script
// (its Content-Security-Policy); only this wrapper does, reading the rendered layout.
// NAMES (set by the wrapper): the student ids whose every appearance is checked.

function box(element) {
  const r = element.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          width: r.width, height: r.height};
}

function firstLine(element) {
  const r = element.getClientRects()[0];
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          width: r.width, height: r.height};
}

function nameAppearances(doc) {
  const found = [];
  const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const element = node.parentElement;
    if (element.closest('style, pre')) continue;  // CSS; students' code, not a name
    for (const name of NAMES) {
      const pattern = new RegExp('(?<![A-Za-z0-9_.-])' + name + '(?![A-Za-z0-9_-])', 'g');
      for (const _ of node.data.matchAll(pattern)) {
        const link = element.closest('a[href]');
        const section = element.closest('section[id]');
        found.push({name, href: link ? link.href : null,
                    section: section ? section.id : null,
                    shown: element.getClientRects().length > 0});
      }
    }
  }
  return found;
}

function measure() {
  const frame = document.getElementById('page');
  const win = frame.contentWindow, doc = frame.contentDocument;
  const figures = {
    url: doc.URL,
    viewport: {width: doc.documentElement.clientWidth, height: doc.documentElement.clientHeight},
    scroll: {x: win.scrollX, y: win.scrollY},
    names: nameAppearances(doc),
  };
  const attention = doc.getElementById('attention');
  if (attention) {
    figures.attention = box(attention);
    figures.attention_links = [...attention.querySelectorAll('a[href]')].map(
      a => ({text: a.textContent, href: a.href, ...box(a)}));
  }
  figures.panes = [...doc.querySelectorAll('.pair .qa > div')].map(div => {
    const code = div.querySelector(':scope > pre');
    const mark = code ? code.querySelector('mark') : null;
    return {
      student: div.querySelector('strong').textContent,
      code: code ? {...box(code), clientHeight: code.clientHeight,
                    scrollHeight: code.scrollHeight, scrollTop: code.scrollTop} : null,
      // the first line of the first shared run (a run spans many lines)
      first_mark: mark ? firstLine(mark) : null,
    };
  });
  document.getElementById('figures').textContent = JSON.stringify(figures);
}
