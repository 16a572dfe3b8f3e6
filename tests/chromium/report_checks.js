// Appended to a copy of a report's index.html by check_report.sh.  Once the
// page has loaded it opens every folded block (the per-class tables and
// plots are checked too), waits for every image to decode, and writes what
// it found into the page as plain lines, which `chromium --dump-dom` prints:
//   images=N  tables=N  height=PX (folds closed)  and one "problem: ..." line per failure.
(async function checkReport() {
  const openedHeight = document.documentElement.scrollHeight; // as a reader first sees it
  for (const block of document.querySelectorAll('details')) block.open = true;
  const images = Array.from(document.images);
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const viewport = document.documentElement.clientWidth;
  const lines = [];
  images.forEach((img, i) => {
    if (!img.complete || img.naturalWidth === 0)
      lines.push(`problem: image ${i + 1} ("${img.alt}") did not load`);
  });
  const tables = Array.from(document.querySelectorAll('table'));
  tables.forEach((table, i) => {
    const caption = (table.querySelector('th') || {}).textContent || '';
    if (table.scrollWidth > table.clientWidth)
      lines.push(`problem: table ${i + 1} (first header "${caption}") is wider than its box: ` +
                 `scrollWidth ${table.scrollWidth} > clientWidth ${table.clientWidth}`);
    const right = Math.ceil(table.getBoundingClientRect().right);
    if (right > viewport)
      lines.push(`problem: table ${i + 1} (first header "${caption}") ends at ${right} px, ` +
                 `past the ${viewport} px viewport`);
    // Stricter than the window: a table sticking out of the text column
    // looks broken even when the window is wide enough to show it.
    const parent = table.parentElement, style = getComputedStyle(parent);
    const column = parent.getBoundingClientRect().right - parseFloat(style.paddingRight) -
                   parseFloat(style.borderRightWidth);
    if (right > Math.ceil(column) + 1)
      lines.push(`problem: table ${i + 1} (first header "${caption}") ends at ${right} px, ` +
                 `past its ${parent.tagName.toLowerCase()}'s content edge at ${Math.ceil(column)} px`);
  });
  if (document.documentElement.scrollWidth > viewport)
    lines.push(`problem: the page is ${document.documentElement.scrollWidth} px wide, ` +
               `wider than the ${viewport} px viewport`);
  lines.unshift(`images=${images.length}`, `tables=${tables.length}`,
                `height=${openedHeight}`);
  const out = document.createElement('pre');
  out.id = 'geossl-check';
  out.textContent = '\n' + lines.join('\n') + '\n';
  document.body.appendChild(out);
})();
