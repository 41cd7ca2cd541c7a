// Voice feedback: record in the browser with MediaRecorder and send the recording with the
// feedback form. Browsers allow the microphone only on a secure page (https, or localhost);
// elsewhere the button stays hidden and teachers write instead.

const t = self.folioT;
const size = self.folioSize;

for (const form of document.querySelectorAll('form[data-voice]')) {
  const box = form.querySelector('.recorder');
  if (!box || !window.MediaRecorder || !navigator.mediaDevices?.getUserMedia) continue;
  box.hidden = false;
  const button = box.querySelector('[data-record]');
  const status = box.querySelector('[data-record-status]');
  let recorder = null;
  let recording = null;
  let chunks = [];

  button.addEventListener('click', async () => {
    if (recorder && recorder.state === 'recording') {
      recorder.stop();
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      chunks = [];
      recorder = new MediaRecorder(stream);
      recorder.addEventListener('dataavailable', (e) => chunks.push(e.data));
      recorder.addEventListener('stop', () => {
        stream.getTracks().forEach((t) => t.stop());
        recording = new Blob(chunks, { type: recorder.mimeType || 'audio/webm' });
        button.textContent = t('js-record-again');
        status.textContent = t('js-recording-ready', { size: size(recording.size) });
      });
      recorder.start();
      button.textContent = t('js-stop-recording');
      status.textContent = t('js-recording');
    } catch {
      status.textContent = t('js-no-microphone');
    }
  });

  form.addEventListener('submit', async (e) => {
    if (!recording) return;
    e.preventDefault();
    const data = new FormData(form);
    const ext = recording.type.includes('ogg') ? 'ogg' : recording.type.includes('mp4') ? 'm4a' : 'webm';
    data.append('audio', recording, `feedback.${ext}`);
    const res = await fetch(form.action, { method: 'POST', body: data });
    if (res.ok || res.redirected) location.reload();
    else status.textContent = t('js-recording-not-sent');
  });
}
