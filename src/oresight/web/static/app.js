// Scenarios page: start a run (library or upload), poll its job, then open the run's page.
(function () {
  const box = document.getElementById("job");
  const bar = document.getElementById("job-progress");
  const status = document.getElementById("job-status");
  const error = document.getElementById("job-error");

  function describe(detail) {
    if (typeof detail === "string") return detail;
    return detail.map((d) => d.loc.join(".") + ": " + d.msg).join("; ");
  }

  // "commodity=gallium, stage=refining" -> {commodity: "gallium", stage: "refining"}; null if malformed
  function parseParameters(text) {
    const parameters = {};
    for (const pair of text.split(",").map((p) => p.trim()).filter(Boolean)) {
      const [key, ...rest] = pair.split("=");
      if (!key.trim() || rest.length === 0) return null;
      parameters[key.trim()] = rest.join("=").trim();
    }
    return parameters;
  }

  function refuse(message) {
    box.hidden = false;
    status.textContent = "refused";
    error.textContent = message;
  }

  async function start(url, options) {
    box.hidden = false;
    error.textContent = "";
    status.textContent = "starting…";
    bar.value = 0;
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) {
      refuse(describe(body.detail));
      return;
    }
    poll(body.id);
  }

  async function poll(id) {
    const response = await fetch("/api/jobs/" + id);
    const job = await response.json();
    bar.value = job.progress;
    status.textContent = job.status + " " + Math.round(100 * job.progress) + "%";
    if (job.status === "done") {
      location.href = "/scenarios/runs/" + job.run_id;
    } else if (job.status === "failed") {
      error.textContent = job.error;
    } else {
      setTimeout(() => poll(id), 400);
    }
  }

  document.getElementById("library-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const request = { scenario: form.get("scenario") };
    for (const key of ["samples", "horizon_months"]) {
      if (form.get(key)) request[key] = Number(form.get(key));
    }
    const parameters = parseParameters(form.get("parameters") || "");
    if (parameters === null) {
      refuse("parameters: write name=value pairs separated by commas");
      return;
    }
    request.parameters = parameters;
    start("/api/runs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request),
    });
  });

  document.getElementById("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    if (!form.get("samples")) form.delete("samples");
    start("/api/runs/upload", { method: "POST", body: form });
  });
})();
