/*
 * Research graph explorer: draws /researchers/<slug>/graph.json with the vendored cytoscape.js.
 *
 * - filter by node type (people, works, topics, institutions);
 * - click a node for a side panel with its details and a link to its page;
 * - expand a co-author: their own graph.json is fetched and their strongest co-authors not yet
 *   shown are merged in by node id, placed around them, with the links between them;
 * - colours come from CSS custom properties (the graph section of site.css), so the legend,
 *   the inline slice and this drawing always agree. Works and people are coloured by kind only.
 *
 * Everything imported (names, titles) reaches the page through textContent, never innerHTML.
 */
(function () {
  "use strict";

  // A few expansions are useful; hundreds of nodes are not readable and slow the layout down.
  var MAX_NODES = 400;
  var PEOPLE_PER_EXPANSION = 10;
  var TYPES = ["person", "work", "topic", "institution"];

  function cssColour(element, name, fallback) {
    var value = getComputedStyle(element).getPropertyValue(name).trim();
    return value || fallback;
  }

  function shorten(text, limit) {
    text = String(text || "").replace(/\s+/g, " ").trim();
    return text.length <= limit ? text : text.slice(0, limit - 1).trim() + "\u2026";
  }

  function formatWeight(weight) {
    return Number(weight).toFixed(3).replace(/\.?0+$/, "");
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function nodeElement(node, strongest) {
    var data = Object.assign({}, node);
    if (node.type === "person" && node.role === "center") {
      data.short = shorten(node.label, 28);
      data.size = 46;
    } else if (node.type === "person") {
      var share = Math.min(1, (node.weight || 0) / (strongest || 1));
      data.short = shorten(node.label, 24);
      data.size = 12 + 24 * Math.sqrt(share);
      // Weak ties keep small labels, which cytoscape hides until the reader zooms in.
      data.fontSize = 10 + 5 * Math.sqrt(share);
    } else if (node.type === "work") {
      data.short = shorten(node.label, 34);
      data.size = 18;
    } else if (node.type === "topic") {
      data.short = node.code;
      data.size = 22;
      data.width = 16 + 7 * node.code.length;
    } else {
      data.short = shorten(node.label, 28);
      data.size = 22;
    }
    data.fontSize = data.fontSize || 11;
    data.pinned = node.role === "center" || node.close || node.type === "topic" ||
      node.type === "institution";
    return { group: "nodes", data: data };
  }

  function edgeElement(edge, strongest) {
    var data = Object.assign({}, edge);
    if (edge.type === "coauthor") {
      data.share = Math.min(1, edge.weight / (strongest || 1));
      data.width = 0.8 + 7 * data.share;
    } else if (edge.type === "topic") {
      data.width = 1.2;
    } else {
      data.width = 1;
    }
    return { group: "edges", data: data };
  }

  function pairKey(a, b) {
    return a < b ? a + "\u0000" + b : b + "\u0000" + a;
  }

  function strongestWeight(graph) {
    var strongest = 0;
    graph.nodes.forEach(function (node) {
      if (node.type === "person" && node.weight > strongest) strongest = node.weight;
    });
    return strongest || 1;
  }

  function styles(root) {
    var colour = {
      center: cssColour(root, "--g-center", "#1e293b"),
      coauthor: cssColour(root, "--g-coauthor", "#2563eb"),
      preprint: cssColour(root, "--g-preprint", "#0f766e"),
      article: cssColour(root, "--g-article", "#7c3aed"),
      withdrawn: cssColour(root, "--g-withdrawn", "#94a3b8"),
      topic: cssColour(root, "--g-topic", "#d97706"),
      institution: cssColour(root, "--g-institution", "#db2777"),
      ink: cssColour(root, "--g-ink", "#1f2937"),
      line: cssColour(root, "--g-line", "#cbd5e1"),
      focus: cssColour(root, "--g-focus", "#f59e0b"),
    };
    return [
      {
        selector: "node",
        style: {
          label: "data(short)",
          width: "data(size)",
          height: "data(size)",
          "font-family": "system-ui, sans-serif",
          "font-size": "data(fontSize)",
          color: colour.ink,
          "text-valign": "bottom",
          "text-margin-y": 4,
          "text-background-color": "#ffffff",
          "text-background-opacity": 0.8,
          "text-background-padding": 2,
          "text-background-shape": "roundrectangle",
          "min-zoomed-font-size": 6,
          "border-width": 2,
          "border-color": "#ffffff",
          "overlay-opacity": 0,
        },
      },
      {
        selector: 'node[type = "person"]',
        style: { shape: "ellipse", "background-color": colour.coauthor },
      },
      // The researcher, close collaborators, topics and institutions keep their labels at
      // any zoom; the other names appear as the reader zooms in.
      { selector: "node[?pinned]", style: { "min-zoomed-font-size": 0 } },
      {
        selector: 'node[role = "center"]',
        style: {
          "background-color": colour.center,
          "font-size": 15,
          "font-weight": 700,
          "border-width": 4,
          "border-color": "#ffffff",
          "z-index": 10,
        },
      },
      {
        selector: 'node[type = "work"]',
        style: {
          shape: "round-rectangle",
          "background-color": colour.preprint,
          "font-size": 10,
          // Titles are long: they appear when zoomed in, on hover and on selection.
          "min-zoomed-font-size": 11,
          "text-max-width": 140,
          "text-wrap": "ellipsis",
        },
      },
      { selector: 'node[kind = "article"]', style: { "background-color": colour.article } },
      {
        selector: 'node[kind = "withdrawn"]',
        style: {
          "background-color": colour.withdrawn,
          "border-style": "dashed",
          "border-color": "#64748b",
        },
      },
      {
        selector: 'node[type = "topic"]',
        style: {
          shape: "round-rectangle",
          width: "data(width)",
          "background-color": cssColour(root, "--g-topic-soft", "#fff1dc"),
          "border-color": colour.topic,
          "border-width": 1.5,
          "text-valign": "center",
          "text-margin-y": 0,
          "text-background-opacity": 0,
          "font-weight": 700,
          color: "#8a4b00",
        },
      },
      {
        selector: 'node[type = "institution"]',
        style: { shape: "diamond", "background-color": colour.institution },
      },
      {
        selector: "node.expanded-from",
        style: { "border-color": colour.coauthor, "border-style": "double", "border-width": 5 },
      },
      {
        selector: "edge",
        style: {
          width: "data(width)",
          "line-color": colour.line,
          "curve-style": "haystack",
          "haystack-radius": 0,
          opacity: 0.7,
        },
      },
      {
        selector: 'edge[type = "coauthor"]',
        style: { "line-color": colour.coauthor, opacity: "mapData(share, 0, 1, 0.18, 0.75)" },
      },
      { selector: 'edge[type = "topic"]', style: { "line-color": colour.topic, opacity: 0.35 } },
      {
        selector: 'edge[type = "affiliation"]',
        style: { "line-color": colour.institution, opacity: 0.35, "line-style": "dashed" },
      },
      { selector: ".faded", style: { opacity: 0.12, "text-opacity": 0 } },
      {
        selector: "node.hovered, node:selected",
        style: {
          "min-zoomed-font-size": 0,
          "font-size": 12,
          "text-max-width": 260,
          "z-index": 20,
        },
      },
      {
        selector: "node:selected",
        style: { "border-color": colour.focus, "border-width": 4 },
      },
      { selector: ".is-filtered", style: { display: "none" } },
    ];
  }

  function layoutOptions(eles) {
    return {
      name: "cose",
      eles: eles,
      animate: false,
      randomize: false,
      fit: true,
      padding: 36,
      nodeDimensionsIncludeLabels: true,
      // Strong ties pull co-authors close; a single large paper leaves them at the edge.
      idealEdgeLength: function (edge) {
        if (edge.data("type") === "coauthor") return 40 + 110 * (1 - (edge.data("share") || 0));
        return 80;
      },
      edgeElasticity: function (edge) {
        if (edge.data("type") === "coauthor") return 40 + 200 * (1 - (edge.data("share") || 0));
        return 160;
      },
      nodeRepulsion: function () {
        return 9000;
      },
      gravity: 1.2,
      numIter: 1500,
      componentSpacing: 60,
    };
  }

  function Explorer(root) {
    this.root = root;
    this.center = root.dataset.center;
    this.canvas = root.querySelector("#explorer-canvas");
    this.panel = root.querySelector("#explorer-panel");
    this.status = root.querySelector("#explorer-status");
    this.pairs = new Set();
    this.expanded = new Set();
    this.cy = null;
  }

  Explorer.prototype.load = function () {
    var self = this;
    fetch(this.root.dataset.graphUrl, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (graph) {
        self.draw(graph);
      })
      .catch(function () {
        self.setStatus("The graph could not be loaded. The lists below show the same nodes.");
        self.root.dataset.state = "error";
      });
  };

  Explorer.prototype.setStatus = function (text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  };

  Explorer.prototype.draw = function (graph) {
    var self = this;
    this.strongest = strongestWeight(graph);
    var elements = graph.nodes.map(function (node) {
      return nodeElement(node, self.strongest);
    });
    graph.edges.forEach(function (edge) {
      if (edge.type === "coauthor") self.pairs.add(pairKey(edge.source, edge.target));
      elements.push(edgeElement(edge, self.strongest));
    });
    this.cy = cytoscape({
      container: this.canvas,
      elements: elements,
      style: styles(this.root),
      layout: { name: "preset" },
      minZoom: 0.2,
      maxZoom: 3,
      boxSelectionEnabled: false,
      autoungrabify: false,
    });
    this.cy.nodes().forEach(function (node) {
      node.data("base", true);
    });
    this.runLayout();
    this.bind();
    this.updateCounts();
    this.setStatus("");
    this.root.dataset.state = "ready";
  };

  // Below this zoom the names are too small to read: the first view centres on the researcher
  // instead, and "Fit to view" shows everything.
  var READABLE_ZOOM = 0.8;

  Explorer.prototype.runLayout = function () {
    var cy = this.cy;
    cy.layout(layoutOptions(cy.elements(":visible"))).run();
    if (cy.zoom() < READABLE_ZOOM) {
      cy.zoom(READABLE_ZOOM);
      cy.center(cy.getElementById(this.center));
    }
  };

  Explorer.prototype.bind = function () {
    var self = this;
    var cy = this.cy;
    cy.on("tap", "node", function (event) {
      self.show(event.target);
    });
    cy.on("tap", function (event) {
      if (event.target === cy) self.clearPanel();
    });
    cy.on("mouseover", "node", function (event) {
      var node = event.target;
      node.addClass("hovered");
      cy.elements().addClass("faded");
      node.closedNeighborhood().removeClass("faded");
      self.canvas.style.cursor = "pointer";
    });
    function unhover() {
      cy.nodes(".hovered").removeClass("hovered");
      cy.elements().removeClass("faded");
      self.canvas.style.cursor = "";
    }
    cy.on("mouseout", "node", unhover);
    // Leaving the canvas straight from a node sends no mouseout to the node.
    this.canvas.addEventListener("mouseleave", unhover);
    this.root.querySelectorAll('input[name="type"]').forEach(function (box) {
      box.addEventListener("change", function () {
        self.filter();
      });
    });
    this.root.querySelector('[data-action="fit"]').addEventListener("click", function () {
      cy.fit(cy.elements(":visible"), 36);
    });
    this.root.querySelector('[data-action="reset"]').addEventListener("click", function () {
      self.reset();
    });
    window.addEventListener("resize", function () {
      cy.resize();
    });
  };

  Explorer.prototype.filter = function () {
    var shown = new Set();
    this.root.querySelectorAll('input[name="type"]').forEach(function (box) {
      if (box.checked) shown.add(box.value);
    });
    var center = this.center;
    this.cy.nodes().forEach(function (node) {
      var hide = !shown.has(node.data("type")) && node.id() !== center;
      node.toggleClass("is-filtered", hide);
    });
    var selected = this.cy.nodes(":selected");
    if (selected.length && selected.hasClass("is-filtered")) this.clearPanel();
  };

  Explorer.prototype.updateCounts = function () {
    var cy = this.cy;
    var center = this.center;
    TYPES.forEach(
      function (type) {
        var count = cy.nodes('[type = "' + type + '"]').filter(function (node) {
          return node.id() !== center;
        }).length;
        var label = this.root.querySelector('[data-count="' + type + '"]');
        if (label) label.textContent = "(" + count + ")";
      }.bind(this)
    );
  };

  Explorer.prototype.reset = function () {
    this.cy.nodes().filter(function (node) {
      return !node.data("base");
    }).remove();
    this.cy.edges().filter(function (edge) {
      return !edge.data("base");
    }).remove();
    this.cy.nodes().removeClass("expanded-from");
    this.expanded.clear();
    this.root.querySelectorAll('input[name="type"]').forEach(function (box) {
      box.checked = true;
    });
    this.filter();
    this.runLayout();
    this.updateCounts();
    this.clearPanel();
  };

  Explorer.prototype.clearPanel = function () {
    this.cy.nodes(":selected").unselect();
    this.panel.replaceChildren(el("p", "explorer__panel-empty", "Click a node to see what it is."));
  };

  function el(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = text;
    return element;
  }

  function link(href, text, className) {
    var anchor = el("a", className || "button button--secondary", text);
    anchor.href = href;
    return anchor;
  }

  Explorer.prototype.show = function (node) {
    var data = node.data();
    var self = this;
    this.cy.nodes(":selected").unselect();
    node.select();
    var parts = [];
    var kindLabel = {
      person: data.role === "center" ? "This researcher" : "Co-author",
      work: data.kind ? data.kind.charAt(0).toUpperCase() + data.kind.slice(1) : "Work",
      topic: "Topic",
      institution: "Institution",
    }[data.type];
    parts.push(el("p", "explorer__panel-kind explorer__panel-kind--" + data.type, kindLabel));
    parts.push(el("h2", "explorer__panel-title", data.label));
    var facts = el("dl", "explorer__facts");
    function fact(term, value) {
      if (value === undefined || value === null || value === "") return;
      facts.append(el("dt", null, term), el("dd", null, String(value)));
    }
    var actions = el("p", "explorer__panel-actions");
    if (data.type === "person") {
      fact("Affiliation", data.affiliation || "Affiliation not imported");
      if (data.role === "center") {
        fact("Works", data.work_count);
        fact("Close collaborators", data.close_collaborator_count);
      } else if (data.expanded_via) {
        fact("Co-author of", data.expanded_via);
        fact("Weight with them", formatWeight(data.weight));
      } else {
        fact("Co-authorship weight", formatWeight(data.weight));
        fact("Shared works", data.shared_works);
        fact("Latest shared year", data.latest_year);
        if (data.close) fact("Close collaborator", "Yes");
      }
      actions.append(link(data.url, "Open profile"));
      if (data.role !== "center") {
        var expand = el(
          "button",
          "button",
          this.expanded.has(data.id) ? "Co-authors added" : "Add their co-authors"
        );
        expand.type = "button";
        expand.disabled = this.expanded.has(data.id);
        expand.addEventListener("click", function () {
          expand.disabled = true;
          expand.textContent = "Adding…";
          self.expand(node).then(function (added) {
            if (added === null) {
              expand.textContent = "Could not load their co-authors";
              expand.disabled = false;
            } else if (added.people === 0 && added.links === 0) {
              expand.textContent = "Their co-authors are all here";
            } else {
              expand.textContent =
                "Added " +
                (added.people === 1 ? "1 person" : added.people + " people") +
                ", " +
                plural(added.links, "link");
            }
          });
        });
        actions.append(expand);
        var graphPage = data.graph_url.replace(/\.json$/, "/");
        actions.append(link(graphPage, "Centre the explorer on them", "explorer__panel-link"));
      }
    } else if (data.type === "work") {
      fact("Year", data.year);
      fact("Venue", data.venue);
      fact("Authors", data.authors);
      actions.append(link(data.url, "Open work"));
      if (data.arxiv_url) actions.append(link(data.arxiv_url, "arXiv abstract", "explorer__panel-link"));
    } else if (data.type === "topic") {
      fact("Code", data.code);
      fact("Works", data.works);
      fact("As primary topic", data.primary_works);
      actions.append(link(data.url, "Open topic"));
    } else {
      fact("People in this graph", data.people);
      parts.push(el("p", "explorer__panel-note", "From affiliations printed in the arXiv metadata."));
    }
    parts.splice(2, 0, facts);
    parts.push(actions);
    var neighbours = node.neighborhood("node").filter(function (other) {
      return !other.hasClass("is-filtered");
    });
    parts.push(el("p", "explorer__panel-note", "Connected to " + plural(neighbours.length, "node") + " in this view."));
    this.panel.replaceChildren.apply(this.panel, parts);
  };

  Explorer.prototype.expand = function (node) {
    var self = this;
    var cy = this.cy;
    var id = node.id();
    return fetch(node.data("graph_url"), { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (graph) {
        self.expanded.add(id);
        node.addClass("expanded-from");
        // Their strongest co-authors who are not in the picture yet, strongest first.
        var fresh = graph.nodes
          .filter(function (other) {
            return (
              other.type === "person" &&
              other.role === "coauthor" &&
              cy.getElementById(other.id).empty()
            );
          })
          .slice(0, PEOPLE_PER_EXPANSION);
        var room = Math.max(0, MAX_NODES - cy.nodes().length);
        if (fresh.length > room) {
          fresh = fresh.slice(0, room);
          self.setStatus("The graph is at its size limit; reset it to explore further.");
        }
        var centre = cy.getElementById(self.center).position();
        var origin = node.position();
        var away = Math.atan2(origin.y - centre.y, origin.x - centre.x);
        var added = cy.collection();
        fresh.forEach(function (other, index) {
          var spread = fresh.length > 1 ? (index / (fresh.length - 1) - 0.5) * Math.PI * 0.9 : 0;
          var angle = away + spread;
          var element = nodeElement(other, strongestWeight(graph));
          element.data.size = Math.min(element.data.size, 24);
          element.data.expanded_via = node.data("label");
          element.position = {
            x: origin.x + 130 * Math.cos(angle),
            y: origin.y + 130 * Math.sin(angle),
          };
          added = added.union(cy.add(element));
        });
        var expandedStrongest = strongestWeight(graph);
        var links = 0;
        graph.edges.forEach(function (edge) {
          if (edge.type !== "coauthor") return;
          var key = pairKey(edge.source, edge.target);
          if (self.pairs.has(key)) return;
          if (cy.getElementById(edge.source).empty() || cy.getElementById(edge.target).empty()) {
            return;
          }
          self.pairs.add(key);
          var element = edgeElement(edge, expandedStrongest);
          element.data.width = Math.min(element.data.width, 4);
          added = added.union(cy.add(element));
          links += 1;
        });
        self.filter();
        self.updateCounts();
        if (fresh.length) {
          cy.animate({ center: { eles: node.closedNeighborhood() }, duration: 300 });
        }
        return { people: fresh.length, links: links };
      })
      .catch(function () {
        return null;
      });
  };

  function start() {
    var root = document.getElementById("explorer");
    if (!root || typeof window.cytoscape !== "function") return;
    root.hidden = false;
    // Kept on window for the browser test and for curious readers in the console.
    window.bzpeerExplorer = new Explorer(root);
    window.bzpeerExplorer.load();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
