# The "numpy" version that loops over Python lists (grows with d), run in a thread started
# and joined inside the call: the thread has exited when the judge reads the CPU clock,
# which still counts it. Loses easy.numpy_vectorised_over_d only.
import threading as _threading


def rnn_style_vector_numpy(xs):
    out = []
    thread = _threading.Thread(target=lambda: out.append(np.array(rnn_style_vector(xs.tolist()))))
    thread.start()
    thread.join()
    return out[0]
