// Tables and code blocks wider than the page scroll sideways inside their box. On a narrow
// screen nothing showed that: they simply looked cut off at the right edge. Mark every such box
// while it overflows (a fading right edge; above a table, also a line saying that it scrolls),
// and update the mark as the reader scrolls it or resizes the window.
(function () {
  "use strict";

  function update(box, hint) {
    var overflows = box.scrollWidth - box.clientWidth > 2;
    var atEnd = box.scrollLeft + box.clientWidth >= box.scrollWidth - 2;
    box.parentNode.classList.toggle("scroll-cue-more", overflows && !atEnd);
    if (hint) {
      hint.hidden = !overflows;
    }
  }

  // a table gets the fading edge and a line of text; a code block the fading edge only
  function setUp(box, withHint) {
    var wrapper = document.createElement("div");
    wrapper.className = "scroll-cue";
    box.parentNode.insertBefore(wrapper, box);
    wrapper.appendChild(box);
    var hint = null;
    if (withHint) {
      hint = document.createElement("p");
      hint.className = "scroll-cue-hint";
      hint.textContent = "Wider than the screen: scroll the table sideways \u2192";
      hint.hidden = true;
      wrapper.parentNode.insertBefore(hint, wrapper);
    }
    var refresh = function () { update(box, hint); };
    box.addEventListener("scroll", refresh, { passive: true });
    window.addEventListener("resize", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".pst-scrollable-table-container").forEach(function (box) {
      setUp(box, true);
    });
    document.querySelectorAll(".bd-article div.highlight > pre").forEach(function (box) {
      setUp(box, false);
    });
  });
})();
