// Headless Chromium checks of Rapport's pages, driven by tests/integration/browser.rs:
// the survey (one page and easy-read), the clinician's repair flow and the
// admin's client-safety page, each
// page audited with axe-core (WCAG 2.x A/AA) and screenshotted.
//
// Environment: BASE_URL, SURVEY_PATH, CLINICIAN_EMAIL, CLINICIAN_PASSWORD,
// MANAGER_EMAIL, ADMIN_EMAIL,
// SCREENSHOTS (folder), CHROMIUM (executable).

import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const base = env('BASE_URL');
const shots = env('SCREENSHOTS');
mkdirSync(shots, { recursive: true });

const failures = [];
const check = (ok, message) => {
  if (!ok) failures.push(message);
};

const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

async function audit(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  }, WCAG);
  for (const v of result) {
    failures.push(`axe ${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.join(', ')}`);
  }
  console.log(`axe ${name}: ${result.length} violation(s)`);
}

async function snapshot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/// Nothing on the page may need horizontal scrolling.
async function fitsWidth(page, name) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  // Name the widest element that sticks out, to say what to fix.
  const culprit = overflow > 1 ? await page.evaluate(() => {
    const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1);
    const e = wide[wide.length - 1];
    return e ? `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + String(e.className).split(' ').join('.') : ''} “${(e.textContent || '').trim().slice(0, 40)}”` : '';
  }) : '';
  check(overflow <= 1, `${name}: page is ${overflow}px wider than the ${page.viewportSize().width}px screen (${culprit})`);
}

/// Each page of the signed-in person's menu at 375 px: nothing may need
/// horizontal scrolling, and axe finds nothing.
async function everyMenuPage(page, who) {
  await page.setViewportSize({ width: 375, height: 900 });
  const links = await page.$$eval('header nav a', (as) => as.map((a) => a.getAttribute('href')));
  for (const href of links) {
    await page.goto(`${base}${href}`);
    await fitsWidth(page, `${who} ${href} 375px`);
    await audit(page, `${who} ${href} 375px`);
  }
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

try {
  // ---------- The client's survey ----------
  // bypassCSP only so axe can be injected; the pages themselves run no script.
  const client = await browser.newContext({ bypassCSP: true, javaScriptEnabled: true });
  const survey = await client.newPage();
  const surveyUrl = base + env('SURVEY_PATH');
  for (const width of [375, 1280]) {
    await survey.setViewportSize({ width, height: 900 });
    const response = await survey.goto(surveyUrl);
    check(response.status() === 200, `survey page answered ${response.status()}`);
    check((await survey.getAttribute('html', 'lang')) === 'en', 'survey page has lang="en"');
    await audit(survey, `survey ${width}px`);
    await fitsWidth(survey, `survey ${width}px`);
    await snapshot(survey, `survey-${width}`);
  }
  // The smallest phones: nothing needs sideways scrolling at 320 px.
  await survey.setViewportSize({ width: 320, height: 800 });
  await survey.goto(surveyUrl);
  await fitsWidth(survey, 'survey 320px');
  await snapshot(survey, 'survey-320');
  // The 0–10 scale on one row, each point at least 24 px wide (WCAG 2.5.8)
  // and 44 px tall: 11 targets of 44 px cannot fit in 320 px.
  const row = await survey.$eval('.scale', (scale) => {
    const boxes = [...scale.querySelectorAll('label')].map((l) => l.getBoundingClientRect());
    return {
      points: boxes.length,
      tops: new Set(boxes.map((b) => Math.round(b.top))).size,
      narrowest: Math.min(...boxes.map((b) => b.width)),
      lowest: Math.min(...boxes.map((b) => b.height)),
    };
  });
  check(row.points === 11 && row.tops === 1, `320px: the scale takes ${row.tops} rows`);
  check(row.narrowest >= 24 && row.lowest >= 44, `320px: a scale target is ${row.narrowest} × ${row.lowest} px`);
  // The question sits inside its card, not on the border.
  const clear = await survey.$eval('fieldset.question', (f) =>
    f.querySelector('legend').getBoundingClientRect().top - f.getBoundingClientRect().top);
  check(clear >= 4, `the question title is ${clear}px inside its card`);
  // On a laptop each scale target is at least 44 × 44 px.
  await survey.setViewportSize({ width: 1280, height: 900 });
  const small = await survey.$$eval('.scale label', (labels) =>
    labels.filter((l) => { const r = l.getBoundingClientRect(); return r.width < 44 || r.height < 44; }).length);
  check(small === 0, `1280px: ${small} scale targets are smaller than 44 × 44 px`);
  // Sent with nothing answered: the summary lists the questions in page order.
  await Promise.all([survey.waitForNavigation(), survey.getByRole('button', { name: 'Send my answers' }).click()]);
  const listed = await survey.$$eval('.error li a', (as) => as.map((a) => a.getAttribute('href')));
  const onPage = await survey.$$eval('.question[id^="q-"]', (qs) => qs.map((q) => `#${q.id}`));
  const order = onPage.filter((id) => listed.includes(id));
  check(listed.length > 1 && JSON.stringify(listed) === JSON.stringify(order), `error summary order ${listed} is not the page's ${order}`);
  await survey.setViewportSize({ width: 320, height: 800 });
  await survey.goto(surveyUrl);
  // The keyboard reaches the answers.
  await survey.keyboard.press('Tab');
  await survey.keyboard.press('Tab');
  const focused = await survey.evaluate(() => document.activeElement && document.activeElement.tagName);
  check(['BUTTON', 'INPUT', 'A', 'SELECT'].includes(focused), `keyboard focus lands on a control, not ${focused}`);

  // Easy-read: one question per screen, remembered, with a way back.
  await survey.setViewportSize({ width: 375, height: 900 });
  await survey.getByRole('button', { name: /Easy-read version/ }).click();
  await survey.waitForLoadState();
  check((await survey.textContent('.progress')).includes('Question 1 of'), 'easy-read starts at question 1');
  await audit(survey, 'easy-read 375px');
  await fitsWidth(survey, 'easy-read 375px');
  await snapshot(survey, 'easy-read-375');
  await survey.setViewportSize({ width: 1280, height: 900 });
  await audit(survey, 'easy-read 1280px');
  await survey.setViewportSize({ width: 375, height: 900 });
  // Next without an answer: a kind message, same question.
  await survey.getByRole('button', { name: 'Next' }).click();
  check((await survey.textContent('.error')).includes('Please choose'), 'a missing answer is pointed out');
  await audit(survey, 'easy-read error');
  const answers = ['9', '8', '9', '10'];
  for (const [i, value] of answers.entries()) {
    await survey.locator(`.scale label:text-is("${value}")`).click();
    if (i === 0) {
      // Enter on an answer means Next, though Back comes first on the page.
      await Promise.all([survey.waitForNavigation(), survey.keyboard.press('Enter')]);
      check((await survey.textContent('.progress')).includes('Question 2 of'), 'Enter moves to the next question');
      const buttons = await survey.$$eval('.actions button', (bs) => bs.map((b) => b.textContent.trim()));
      check(JSON.stringify(buttons) === '["Back","Next"]', `easy-read buttons read ${buttons}`);
      await snapshot(survey, 'easy-read-step-2');
    } else {
      await survey.getByRole('button', { name: 'Next' }).click();
    }
  }
  // Back keeps the earlier answer.
  await survey.getByRole('button', { name: 'Back' }).click();
  const kept = await survey.$eval('.scale input:checked', (i) => i.value).catch(() => null);
  check(kept === '10', `going back keeps the answer (got ${kept})`);
  await survey.getByRole('button', { name: 'Next' }).click();
  await survey.getByText('No', { exact: true }).click();
  await survey.getByRole('button', { name: 'Next' }).click();
  await survey.getByRole('button', { name: 'Next' }).click(); // the optional comment, left empty
  await audit(survey, 'easy-read review');
  await survey.getByRole('button', { name: 'Send my answers' }).click();
  check((await survey.textContent('h1')).includes('Thank you'), 'the answers are sent');
  await audit(survey, 'thank-you');
  await snapshot(survey, 'thank-you');
  // The link now says it has the answers, still in easy-read.
  await survey.goto(surveyUrl);
  check((await survey.textContent('h1')).includes('We already have your answers'), 'a used link says so');
  check(await survey.$('body.easy') !== null, 'easy-read is remembered for the client');
  await client.close();

  // ---------- Clients who read Arabic (right to left) and Welsh ----------
  const languages = [
    { name: 'arabic', path: env('ARABIC_SURVEY_PATH'), lang: 'ar', dir: 'rtl', send: 'أرسل إجاباتي', easy: 'نسخة سهلة القراءة', next: 'التالي', back: 'رجوع' },
    { name: 'welsh', path: env('WELSH_SURVEY_PATH'), lang: 'cy', dir: 'ltr', send: 'Anfon fy atebion', easy: 'Fersiwn hawdd', next: 'Nesaf', back: 'Yn ôl' },
  ];
  for (const l of languages) {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    for (const width of [320, 1280]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(base + l.path);
      check((await page.getAttribute('html', 'lang')) === l.lang, `${l.name}: the page says lang="${l.lang}"`);
      check((await page.getAttribute('html', 'dir')) === l.dir, `${l.name}: the page says dir="${l.dir}"`);
      check((await page.textContent('button.primary')).trim() === l.send, `${l.name}: the send button is in ${l.name}`);
      await audit(page, `${l.name} survey ${width}px`);
      await fitsWidth(page, `${l.name} survey ${width}px`);
      await snapshot(page, `${l.name}-survey-${width}`);
      // The scale reads from 0 at the start of the line: the right in
      // Arabic. Each label names its own radio, in Western digits.
      const scale = await page.$eval('.scale', (s) => [...s.querySelectorAll('label')].map((label) => ({
        text: label.textContent.trim(),
        value: document.getElementById(label.htmlFor).value,
        x: label.getBoundingClientRect().left,
        top: Math.round(label.getBoundingClientRect().top),
      })));
      check(scale.map((p) => p.text).join() === '0,1,2,3,4,5,6,7,8,9,10', `${l.name}: scale labels ${scale.map((p) => p.text)}`);
      check(scale.every((p) => p.text === p.value), `${l.name}: every scale label names its own radio`);
      check(new Set(scale.map((p) => p.top)).size === 1, `${l.name} ${width}px: the scale is on one row`);
      const rising = scale.every((p, i) => i === 0 || p.x > scale[i - 1].x);
      const falling = scale.every((p, i) => i === 0 || p.x < scale[i - 1].x);
      check(l.dir === 'rtl' ? falling : rising, `${l.name} ${width}px: the scale runs the way the language reads`);
      // The end labels sit at their ends: "0 = …" on the 0 side.
      const ends = await page.$eval('.anchors', (a) => [...a.children].map((c) => c.getBoundingClientRect().left));
      check(l.dir === 'rtl' ? ends[0] > ends[1] : ends[0] < ends[1], `${l.name} ${width}px: the end labels match the scale`);
    }
    // Easy-read in the same language.
    await page.setViewportSize({ width: 320, height: 800 });
    await page.getByRole('button', { name: new RegExp(l.easy) }).click();
    await page.waitForLoadState();
    check((await page.getAttribute('html', 'lang')) === l.lang, `${l.name}: easy-read keeps the language`);
    await audit(page, `${l.name} easy-read 320px`);
    await fitsWidth(page, `${l.name} easy-read 320px`);
    await page.locator('.scale label:text-is("8")').click();
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: l.next }).click()]);
    const buttons = await page.$$eval('.actions button', (bs) => bs.map((b) => b.textContent.trim()));
    check(JSON.stringify(buttons) === JSON.stringify([l.back, l.next]), `${l.name}: easy-read buttons read ${buttons}`);
    await snapshot(page, `${l.name}-easy-read-320`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await audit(page, `${l.name} easy-read 1280px`);
    await snapshot(page, `${l.name}-easy-read-1280`);
    await context.close();
  }
  // A client can change their language among the questionnaire's; it is
  // remembered.
  {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(base + env('WELSH_SURVEY_PATH'));
    await page.selectOption('#language', 'en');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Newid iaith' }).click()]);
    check((await page.getAttribute('html', 'lang')) === 'en', 'the language switch changes the page');
    await page.goto(base + env('WELSH_SURVEY_PATH'));
    check((await page.getAttribute('html', 'lang')) === 'en', 'the chosen language is remembered');
    await context.close();
  }

  // ---------- The clinician's repair flow ----------
  const staff = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await staff.newPage();
  await page.goto(`${base}/sign-in`);
  await audit(page, 'sign-in');
  await page.fill('#email', env('CLINICIAN_EMAIL'));
  await page.fill('#password', env('CLINICIAN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/clinician`);
  check((await page.textContent('h1')) === 'Alerts', 'the clinician lands on the alerts inbox');
  await audit(page, 'inbox');
  await snapshot(page, 'inbox');
  // Triage: overdue alerts and clients who wrote something are marked; the
  // words of risk reached the clinician as a high alert quoting the client.
  check(await page.locator('td .badge', { hasText: 'overdue' }).count() > 0, 'the inbox marks overdue alerts');
  check(await page.locator('td .badge', { hasText: 'wrote something' }).count() > 0, 'the inbox marks clients who wrote something');
  check(await page.locator('section.wrote .badge.high', { hasText: 'words of risk' }).count() > 0, 'a comment with words of risk is marked');
  const riskRow = page.locator('tr.alert-row', { hasText: 'The client wrote' }).first();
  check(await riskRow.count() > 0, 'the words of risk opened an alert');
  if (await riskRow.count() > 0) {
    check(await riskRow.locator('.badge.high').count() > 0, 'the words-of-risk alert is high');
    await riskRow.locator('a.alert-link').click();
    await page.waitForLoadState();
    check((await page.textContent('section.summary')).includes('ending it all'), "the alert's summary quotes the client");
    await audit(page, 'words-of-risk alert');
    await snapshot(page, 'alert-risk');
    await page.goto(`${base}/clinician`);
  }
  await page.setViewportSize({ width: 375, height: 900 });
  await audit(page, 'inbox 375px');
  await fitsWidth(page, 'inbox 375px');
  await page.setViewportSize({ width: 1280, height: 900 });
  // The top alert.
  await page.locator('a.alert-link').first().click();
  await page.waitForLoadState();
  check((await page.textContent('h1')).startsWith('Alert for'), 'the alert page opens');
  await audit(page, 'alert');
  await snapshot(page, 'alert');
  // The story first: the summary, then the repair actions within the
  // first screen of a laptop; the statistics behind a disclosure.
  const top = async (selector) => (await page.locator(selector).first().boundingBox()).y;
  check(await top('#summary-title') < await top('#repair-title'), 'the summary comes before the repair actions');
  const repairAt = await top('#repair form button');
  check(repairAt < 900, `the first repair button is in the first 1280×900 screen (at ${Math.round(repairAt)} px)`);
  check(await page.locator('details').count() > 0, 'the statistics sit behind a disclosure');
  await page.setViewportSize({ width: 375, height: 800 });
  const phoneRepairAt = await top('#repair form button');
  check(phoneRepairAt < 1600, `the first repair button is within two phone screens (at ${Math.round(phoneRepairAt)} px)`);
  await audit(page, 'alert 375px');
  await fitsWidth(page, 'alert 375px');
  await snapshot(page, 'alert-375');
  await page.setViewportSize({ width: 1280, height: 900 });
  if (await page.getByRole('button', { name: 'Acknowledge' }).count() > 0) {
    await page.getByRole('button', { name: 'Acknowledge' }).click();
  }
  await page.fill('#discussed-note', 'We talked about what felt rushed last week.');
  await page.getByRole('button', { name: 'Record the discussion' }).click();
  await page.getByLabel('Repaired', { exact: true }).check();
  await page.getByRole('button', { name: 'Record the outcome and close the alert' }).click();
  await page.waitForLoadState();
  const log = await page.textContent('ol.log');
  for (const entry of ['Acknowledged', 'Discussed with the client', 'Outcome: Repaired']) {
    check(log.includes(entry), `the repair log shows "${entry}"`);
  }
  check(log.indexOf('Discussed with the client') < log.indexOf('Outcome: Repaired'), 'the log is in order');
  await audit(page, 'alert after repair');
  await snapshot(page, 'alert-repaired');
  // The client's page.
  await page.locator('main a[href^="/clinician/clients/"]').first().click();
  await page.waitForLoadState();
  check(await page.$('figure.chart svg') !== null, 'the client page shows the trajectory chart');
  await audit(page, 'client page');
  await snapshot(page, 'client');
  await page.setViewportSize({ width: 375, height: 900 });
  await audit(page, 'client page 375px');
  await fitsWidth(page, 'client page 375px');
  // On a phone the narrow drawing is the one shown, its text at least 9 px.
  const drawn = await page.$eval('figure.chart svg.narrow', (svg) => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return { shown: getComputedStyle(svg).display !== 'none', smallest: 11 * scale };
  });
  check(drawn.shown, 'the narrow chart is shown at 375 px');
  check(drawn.smallest >= 9, `chart labels are legible at 375 px (${drawn.smallest.toFixed(1)} px)`);
  await snapshot(page, 'client-375');
  // The client's contact details, from their page.
  await page.getByRole('link', { name: 'Contact details (email, time zone, language)' }).click();
  await page.waitForLoadState();
  await audit(page, 'contact details 375px');
  await fitsWidth(page, 'contact details 375px');
  await page.setViewportSize({ width: 1280, height: 900 });
  await audit(page, 'contact details');
  await page.goBack();
  // Recording an appointment: today's date filled in, the new-client
  // fields only while "A new client" is chosen.
  await page.goto(`${base}/clinician/appointments/new`);
  check((await page.inputValue('#date')) !== '', "the appointment form starts on today's date");
  check(await page.isVisible('#new_name'), 'new-client fields show for a new client');
  const existing = await page.$$eval('#client option', (os) => os.map((o) => o.value).filter((v) => v !== 'new'));
  if (existing.length > 0) {
    await page.selectOption('#client', existing[0]);
    check(!(await page.isVisible('#new_name')), 'new-client fields hide for an existing client');
  }
  await audit(page, 'appointment form');
  await page.setViewportSize({ width: 375, height: 900 });
  await audit(page, 'appointment form 375px');
  await fitsWidth(page, 'appointment form 375px');
  await page.setViewportSize({ width: 1280, height: 900 });
  // Their own password page, reached from their name at the top.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.locator('header .who a').click();
  await page.waitForURL(`${base}/account/password`);
  await audit(page, 'own password');
  await page.fill('#current', 'not my password');
  await page.fill('#new', 'violet kettle under nine moons');
  await page.getByRole('button', { name: 'Change my password' }).click();
  await page.waitForLoadState();
  check((await page.textContent('main')).includes('current password is not right'), 'a wrong current password is said');
  await audit(page, 'own password error');
  await page.setViewportSize({ width: 375, height: 900 });
  await audit(page, 'own password 375px');
  await everyMenuPage(page, 'clinician');
  await staff.close();

  // ---------- The admin's client-safety page ----------
  const adminContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const admin = await adminContext.newPage();
  await admin.goto(`${base}/sign-in`);
  await admin.fill('#email', env('ADMIN_EMAIL'));
  await admin.fill('#password', env('CLINICIAN_PASSWORD'));
  await admin.getByRole('button', { name: 'Sign in' }).click();
  await admin.waitForURL(`${base}/admin`);
  // The admin menu fits on one row at 1280 px.
  const rows = await admin.$$eval('header nav li', (items) => new Set(items.map((li) => Math.round(li.getBoundingClientRect().top))).size);
  check(rows === 1, `the admin menu is on one row at 1280 px (${rows} rows)`);
  await admin.getByRole('link', { name: 'Safety', exact: true }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('h1')) === 'Client safety', 'the client-safety page opens from the menu');
  await admin.fill('#try', "I'm not suicidal, just tired");
  await admin.getByRole('button', { name: 'Check' }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('main')).includes('Would not open an alert'), 'a negated phrase does not match');
  await audit(admin, 'client safety');
  await snapshot(admin, 'client-safety');
  await admin.fill('#new-language', 'Welsh');
  await admin.fill('#new-phrases', 'eisiau marw');
  await admin.getByRole('button', { name: 'Add the list' }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('#new-list')).includes('not a language tag'), 'a bad tag is refused beside its form');
  await audit(admin, 'client safety error');
  await admin.setViewportSize({ width: 375, height: 900 });
  await audit(admin, 'client safety 375px');
  await fitsWidth(admin, 'client safety 375px');
  // Integrations: an API key created in the browser, shown once.
  await admin.setViewportSize({ width: 1280, height: 900 });
  await admin.goto(`${base}/admin/webhooks`);
  await admin.fill('#key-name', 'Practice system');
  await admin.getByRole('button', { name: 'Create the key' }).click();
  await admin.waitForLoadState();
  check(((await admin.textContent('code.secret')) || '').startsWith('rpk_'), 'the new API key is shown once');
  await audit(admin, 'integrations');
  await snapshot(admin, 'integrations');
  await admin.setViewportSize({ width: 375, height: 900 });
  await audit(admin, 'integrations 375px');
  await fitsWidth(admin, 'integrations 375px');
  // Webhook deliveries have their own page.
  await admin.goto(`${base}/admin/webhooks/deliveries`);
  check((await admin.textContent('h1')) === 'Webhook deliveries', 'webhook deliveries have their own page');
  await admin.setViewportSize({ width: 1280, height: 900 });
  await audit(admin, 'webhook deliveries');
  await admin.setViewportSize({ width: 375, height: 900 });
  await audit(admin, 'webhook deliveries 375px');
  await fitsWidth(admin, 'webhook deliveries 375px');
  // A CSV import as a UK practice system writes it: the preview first.
  await admin.setViewportSize({ width: 1280, height: 900 });
  await admin.goto(`${base}/admin/appointments`);
  await admin.check('#order-day-first');
  await admin.getByRole('button', { name: 'Save date format' }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('main')).includes('dd/mm/yyyy'), 'the date format is saved');
  await audit(admin, 'appointments import');
  await admin.fill('#source', 'SystmOne');
  await admin.setInputFiles('#file', {
    name: 'export.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('Patient ID,Patient Name,Seen by,Appointment Date,Start Time,End Time,Outcome\n' +
      `P-77,Browser Test,${env('CLINICIAN_EMAIL')},02/03/2026,10:00,10:50,Attended\n` +
      `P-78,Second Test,nobody@example.org,02/03/2026,11:00,11:50,Attended\n`),
  });
  await admin.getByRole('button', { name: 'Preview the import' }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('main')).includes('Choose the columns'), 'an unknown column is asked for');
  await admin.selectOption('#column-clinician_email', 'seen_by');
  await admin.getByRole('button', { name: 'Preview with these columns' }).click();
  await admin.waitForLoadState();
  const preview = await admin.textContent('main');
  check(preview.includes('New appointment, new client') && preview.includes('no active clinician'), 'the preview says what each row would do');
  await audit(admin, 'import preview');
  await snapshot(admin, 'import-preview');
  await admin.setViewportSize({ width: 375, height: 900 });
  await audit(admin, 'import preview 375px');
  await fitsWidth(admin, 'import preview 375px');
  await admin.setViewportSize({ width: 1280, height: 900 });
  await admin.getByRole('button', { name: 'Import 2 rows' }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('main')).includes('Import result'), 'the import runs after the preview');
  await audit(admin, 'import result');
  // Email delivery: what waits and why, and a test email to oneself.
  await admin.setViewportSize({ width: 1280, height: 900 });
  await admin.goto(`${base}/admin/email`);
  check((await admin.textContent('#waiting')).includes('Why it is waiting'), 'the delivery page says why emails wait');
  await admin.getByRole('button', { name: 'Send me a test email' }).click();
  await admin.waitForLoadState();
  check((await admin.textContent('main')).includes('test email'), 'the test email result is shown');
  await audit(admin, 'email delivery');
  await snapshot(admin, 'email-delivery');
  await admin.setViewportSize({ width: 375, height: 900 });
  await audit(admin, 'email delivery 375px');
  await fitsWidth(admin, 'email delivery 375px');
  // A client looked up on Privacy, with the typed-confirmation erase form.
  await admin.setViewportSize({ width: 1280, height: 900 });
  await admin.goto(`${base}/admin/privacy?client=1`);
  check(await admin.locator('#confirm-erase').count() === 1, 'the erase form asks for the client number');
  await audit(admin, 'privacy lookup');
  await admin.setViewportSize({ width: 375, height: 900 });
  await audit(admin, 'privacy lookup 375px');
  await fitsWidth(admin, 'privacy lookup 375px');
  // Every admin page from the menu: no sideways scrolling at 375 px.
  await everyMenuPage(admin, 'admin');
  await adminContext.close();

  // ---------- The manager's trends ----------
  const managerContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const manager = await managerContext.newPage();
  await manager.goto(`${base}/sign-in`);
  await manager.fill('#email', env('MANAGER_EMAIL'));
  await manager.fill('#password', env('CLINICIAN_PASSWORD'));
  await manager.getByRole('button', { name: 'Sign in' }).click();
  await manager.waitForURL(`${base}/manager`);
  check(await manager.$('figure svg') !== null, 'the trends page shows charts');
  // At a glance: the whole page in under three laptop screens (800 px).
  const tall = await manager.evaluate(() => document.documentElement.scrollHeight);
  console.log(`manager page: ${tall}px tall at 1280px`);
  check(tall <= 2400, `the manager page is ${tall}px tall at 1280 px (3 screens: 2400)`);
  const open = await manager.$$eval('section.figure-card details[open]', (ds) => ds.length);
  check(open === 0, 'the tables are behind their disclosures');
  await audit(manager, 'trends');
  await snapshot(manager, 'trends');
  await manager.setViewportSize({ width: 375, height: 900 });
  await audit(manager, 'trends 375px');
  await everyMenuPage(manager, 'manager');
  await managerContext.close();
} finally {
  await browser.close();
}

if (failures.length > 0) {
  console.error(`${failures.length} problem(s):`);
  for (const f of failures) console.error(` - ${f}`);
  process.exit(1);
}
console.log('browser checks passed');
