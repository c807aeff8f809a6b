package localstack_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/portcommunity/cpu/shared/entity"
	"github.com/portcommunity/cpu/shared/localstack"
)

// chromium finds the browser the Makefile installs (Debian's chromium).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: `make tools` installs Debian's chromium package")
	return ""
}

// artefacts is where the browser tests put their screenshots (ARTIFACTS_DIR, else .build/artifacts).
func artefacts(t *testing.T) string {
	dir := os.Getenv("ARTIFACTS_DIR")
	if dir == "" {
		root, err := localstack.FindRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".build", "artifacts", "console")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestConsoleInARealBrowser walks the console in headless Chromium as people would: the community
// administrator signs in with the e-mailed code and invites a company; its person registers from the
// e-mailed link, confirms, and is approved; the new admin signs in, subscribes, copies a key (read
// back from the clipboard), regenerates it and invites a colleague. A screenshot of every step is
// kept, one of them at 360 px wide.
func TestConsoleInARealBrowser(t *testing.T) {
	t.Parallel()
	api := startStack(t)
	shots := artefacts(t)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.Flag("headless", "new"), chromedp.WindowSize(1024, 900))...)
	defer cancel()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	// The browser starts with the first Run of its context, and lives as long as that context: start
	// it on the tab, not on a step's shorter one.
	if err := chromedp.Run(tab); err != nil {
		t.Fatal(err)
	}
	chromedp.ListenTarget(tab, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			t.Logf("page exception: %s", e.ExceptionDetails.Error())
		}
	})
	console := api + "/console/"
	step := 0
	shot := func(name string) {
		t.Helper()
		var png []byte
		if err := chromedp.Run(tab, chromedp.FullScreenshot(&png, 100)); err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		step++
		if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Each step has a minute: the evidence it waits for (an element) comes or the step fails.
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, time.Minute)
		defer cancel()
		if err := chromedp.Run(ctx, actions...); err != nil {
			var body, url string
			chromedp.Run(tab, chromedp.Location(&url), chromedp.Text("main", &body, chromedp.ByQuery))
			t.Fatalf("%s: %v (at %s the page says: %s)", what, err, url, body)
		}
	}
	signInUI := func(email, password string) {
		t.Helper()
		before := len(mailbox(t, api, email))
		run("sign in", chromedp.Navigate(console+"#/sign-out"), chromedp.WaitVisible(`input[name=email]`, chromedp.ByQuery),
			chromedp.SendKeys(`input[name=email]`, email, chromedp.ByQuery), chromedp.SendKeys(`input[name=password]`, password, chromedp.ByQuery),
			chromedp.Click(`#f1 button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`input[name=code]`, chromedp.ByQuery))
		code := codePattern.FindStringSubmatch(awaitMail(t, api, email, before+1).Text)[1]
		run("enter the code", chromedp.SendKeys(`input[name=code]`, code, chromedp.ByQuery), chromedp.Click(`#f2 button[type=submit]`, chromedp.ByQuery),
			chromedp.WaitVisible(`a[href="#/sign-out"]`, chromedp.ByQuery))
	}

	// The community administrator invites a company.
	stamp := time.Now().UnixNano() % 100_000_000
	person := fmt.Sprintf("eva.%d@trucking.example", stamp)
	vat := fmt.Sprintf("BE0%08d", stamp)
	vat = vat[:10] + fmt.Sprintf("%02d", 97-mustAtoi(t, vat[2:10])%97)
	if !entity.ValidBelgianVAT(vat) {
		t.Fatalf("test VAT %s", vat)
	}
	ca := seedFile.People[0]
	signInUI(ca.Email, ca.Password)
	shot("community-signed-in")
	run("invite", chromedp.WaitVisible(`#inv`, chromedp.ByQuery), chromedp.SendKeys(`#inv input[name=email]`, person, chromedp.ByQuery),
		chromedp.Click(`#inv button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`#status.on`, chromedp.ByQuery))
	shot("invitation-sent")

	// The person follows the e-mailed link and registers the company.
	link := linkPattern.FindString(awaitMail(t, api, person, 1).Text)
	company := fmt.Sprintf("Browser Test Trucking %d", stamp)
	run("register", chromedp.Navigate(link), chromedp.WaitVisible(`#reg`, chromedp.ByQuery),
		chromedp.SendKeys(`#reg input[name=email]`, person, chromedp.ByQuery), chromedp.SendKeys(`#reg input[name=firstName]`, "Eva", chromedp.ByQuery),
		chromedp.SendKeys(`#reg input[name=lastName]`, "Wouters", chromedp.ByQuery), chromedp.SendKeys(`#reg input[name=name]`, company, chromedp.ByQuery),
		chromedp.SendKeys(`#reg input[name=vat]`, vat, chromedp.ByQuery), chromedp.SetValue(`#reg select[name=role]`, "TransportOperator", chromedp.ByQuery),
		chromedp.SendKeys(`#reg input[name=street]`, "Haven 5", chromedp.ByQuery), chromedp.SendKeys(`#reg input[name=postalCode]`, "2030", chromedp.ByQuery),
		chromedp.SendKeys(`#reg input[name=city]`, "Antwerpen", chromedp.ByQuery))
	shot("registration-form")
	run("submit the registration", chromedp.Click(`#reg button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`//h1[text()="Check your e-mail"]`))
	confirm := linkPattern.FindString(awaitMail(t, api, person, 2).Text)
	password := "nine quiet harbours at night"
	run("confirm", chromedp.Navigate(confirm), chromedp.WaitVisible(`#conf`, chromedp.ByQuery),
		chromedp.SendKeys(`#conf input[name=password]`, password, chromedp.ByQuery),
		chromedp.Click(`#conf input[name=general]`, chromedp.ByQuery), chromedp.Click(`#conf input[name=community]`, chromedp.ByQuery),
		chromedp.Click(`#conf button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`//h1[text()="Registration complete"]`))
	shot("registration-complete")

	// The community administrator approves it.
	signInUI(ca.Email, ca.Password)
	var entityID string
	run("find the membership", chromedp.WaitVisible(`//td[text()="`+company+`"]`),
		chromedp.Text(`//td[text()="`+company+`"]/following-sibling::td[1]`, &entityID))
	shot("approvals")
	run("approve", chromedp.Click(`button[data-approve="`+entityID+`"]`, chromedp.ByQuery), chromedp.WaitNotPresent(`button[data-approve="`+entityID+`"]`, chromedp.ByQuery))
	awaitMail(t, api, person, 4) // complete, approved

	// The new admin signs in, subscribes, copies a key and regenerates it, at a phone's width too.
	signInUI(person, password)
	origin := strings.TrimSuffix(api, "/")
	run("allow the clipboard", browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeClipboardReadWrite, browser.PermissionTypeClipboardSanitizedWrite}).WithOrigin(origin))
	run("subscribe", chromedp.WaitVisible(`#sub`, chromedp.ByQuery), chromedp.SetValue(`#sub select[name=api]`, "cpu", chromedp.ByQuery),
		chromedp.Click(`#sub input[name=terms]`, chromedp.ByQuery), chromedp.Click(`#sub button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[data-keys="cpu"]`, chromedp.ByQuery), chromedp.Click(`button[data-keys="cpu"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#key-primary`, chromedp.ByQuery))
	var primary, copied string
	run("copy the key", chromedp.Text(`#key-primary`, &primary, chromedp.ByQuery), chromedp.Click(`button[data-copy="primary"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#status.on`, chromedp.ByQuery), chromedp.Evaluate(`navigator.clipboard.readText()`, &copied, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if len(primary) < 20 || copied != primary {
		t.Fatalf("copied %q, the page shows %q", copied, primary)
	}
	shot("keys")
	run("regenerate", chromedp.Click(`button[data-regenerate="primary"]`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`document.getElementById('key-primary') && document.getElementById('key-primary').textContent !== %q`, primary), nil))
	run("phone width", chromedp.EmulateViewport(360, 740))
	shot("organisation-360px")
	var wide []string
	run("no sideways scrolling at 360 px", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1 ?
		[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table')).map(e => e.tagName + '.' + e.className + '#' + e.id) : []`, &wide))
	if len(wide) > 0 {
		t.Errorf("the organisation page scrolls sideways at 360 px; too wide: %v", wide)
	}
	run("desktop width", chromedp.EmulateViewport(1024, 900))

	// … and invites a colleague, who receives the set-password link.
	colleague := fmt.Sprintf("jef.%d@trucking.example", stamp)
	run("invite a person", chromedp.SendKeys(`#invite input[name=email]`, colleague, chromedp.ByQuery),
		chromedp.SendKeys(`#invite input[name=firstName]`, "Jef", chromedp.ByQuery), chromedp.SendKeys(`#invite input[name=lastName]`, "Peeters", chromedp.ByQuery),
		chromedp.Click(`#invite button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible(`//td[text()="`+colleague+`"]`))
	shot("person-invited")
	run("integrations", chromedp.Click(`a[href="#/integrations"]`, chromedp.ByQuery), chromedp.WaitVisible(`//h2[text()="API clients"]`))
	shot("integrations")
	if m := awaitMail(t, api, colleague, 1); !strings.Contains(m.Text, "#/set-password?") {
		t.Fatalf("the colleague's mail: %+v", m)
	}
}
