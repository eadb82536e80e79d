<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>App</name>
    <message>
        <source>Loading the layer library…</source>
        <translation>正在加载层库…</translation>
    </message>
</context>
<context>
    <name>Canvas</name>
    <message>
        <source>output</source>
        <translation>输出</translation>
    </message>
    <message>
        <source>%1 params</source>
        <translation>%1 个参数</translation>
    </message>
    <message>
        <source>Output: %1</source>
        <translation>输出：%1</translation>
    </message>
    <message>
        <source>Frozen: its weights do not change in training</source>
        <translation>已冻结：训练中其权重不变</translation>
    </message>
    <message>
        <source>Learning rate × %1</source>
        <translation>学习率 × %1</translation>
    </message>
</context>
<context>
    <name>Category</name>
    <message>
        <source>Input / Output</source>
        <translation>输入 / 输出</translation>
    </message>
    <message>
        <source>Dense</source>
        <translation>全连接</translation>
    </message>
    <message>
        <source>Convolution</source>
        <translation>卷积</translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation>池化</translation>
    </message>
    <message>
        <source>Normalization</source>
        <translation>归一化</translation>
    </message>
    <message>
        <source>Activation</source>
        <translation>激活</translation>
    </message>
    <message>
        <source>Regularization</source>
        <translation>正则化</translation>
    </message>
    <message>
        <source>Reshape</source>
        <translation>变形</translation>
    </message>
    <message>
        <source>Embedding</source>
        <translation>嵌入</translation>
    </message>
    <message>
        <source>Attention</source>
        <translation>注意力</translation>
    </message>
    <message>
        <source>Recurrent</source>
        <translation>循环</translation>
    </message>
    <message>
        <source>Merge</source>
        <translation>合并</translation>
    </message>
    <message>
        <source>Blocks</source>
        <translation>模块</translation>
    </message>
</context>
<context>
    <name>CodeView</name>
    <message>
        <source>Code generation is not available in this build yet.</source>
        <translation>此版本尚不支持代码生成。</translation>
    </message>
    <message>
        <source>Fix the problems to see the code.</source>
        <translation>请先修复问题再查看代码。</translation>
    </message>
    <message>
        <source>Code generation failed: %1</source>
        <translation>代码生成失败：%1</translation>
    </message>
    <message>
        <source>PyTorch code of this network (read-only).</source>
        <translation>此网络的 PyTorch 代码（只读）。</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>Commands</name>
    <message>
        <source>Nothing to change.</source>
        <translation>没有需要修改的内容。</translation>
    </message>
    <message>
        <source>The layer %1 is gone.</source>
        <translation>层 %1 已不存在。</translation>
    </message>
    <message>
        <source>Reconnect %1</source>
        <translation>重新连接 %1</translation>
    </message>
    <message>
        <source>Add %1</source>
        <translation>添加 %1</translation>
    </message>
    <message>
        <source>Add %1 layers</source>
        <translation>添加 %1 个层</translation>
    </message>
    <message>
        <source>Delete %1</source>
        <translation>删除 %1</translation>
    </message>
    <message>
        <source>Delete %1 layers</source>
        <translation>删除 %1 个层</translation>
    </message>
    <message>
        <source>Delete connection</source>
        <translation>删除连接</translation>
    </message>
    <message>
        <source>Delete connections</source>
        <translation>删除连接</translation>
    </message>
    <message>
        <source>Connect %1 → %2</source>
        <translation>连接 %1 → %2</translation>
    </message>
    <message>
        <source>Disconnect %1 → %2</source>
        <translation>断开 %1 → %2</translation>
    </message>
    <message>
        <source>that connection no longer exists</source>
        <translation>该连接已不存在</translation>
    </message>
    <message>
        <source>Move %1</source>
        <translation>移动 %1</translation>
    </message>
    <message>
        <source>Move %1 layers</source>
        <translation>移动 %1 个层</translation>
    </message>
    <message>
        <source>Set %1.%2</source>
        <translation>设置 %1.%2</translation>
    </message>
    <message>
        <source>Set learning-rate factor</source>
        <translation>设置学习率系数</translation>
    </message>
    <message>
        <source>Unfreeze %1 layers</source>
        <translation>解冻 %1 个层</translation>
    </message>
    <message>
        <source>Freeze %1 layers</source>
        <translation>冻结 %1 个层</translation>
    </message>
    <message>
        <source>Replace head</source>
        <translation>替换输出头</translation>
    </message>
    <message>
        <source>Rename %1 to %2</source>
        <translation>将 %1 重命名为 %2</translation>
    </message>
    <message>
        <source>Insert %1</source>
        <translation>插入 %1</translation>
    </message>
</context>
<context>
    <name>ConfusionMatrixView</name>
    <message>
        <source>predicted class →</source>
        <translation>预测类别 →</translation>
    </message>
    <message>
        <source>← true class</source>
        <translation>← 真实类别</translation>
    </message>
</context>
<context>
    <name>DataFitBar</name>
    <message>
        <source>The network does not fit dataset &apos;%1&apos; yet: %2.</source>
        <translation>网络还不适合数据集“%1”：%2。</translation>
    </message>
    <message>
        <source>Fit the drawing</source>
        <translation>让网络适配数据</translation>
    </message>
    <message>
        <source>Keep as drawn</source>
        <translation>保持原样</translation>
    </message>
    <message>
        <source>Change the drawing as listed, in one step that Undo takes back</source>
        <translation>按所列内容修改网络，一步完成，可用“撤销”还原</translation>
    </message>
</context>
<context>
    <name>DataFollower</name>
    <message>
        <source>Fit the network to the data</source>
        <translation>使网络适配数据</translation>
    </message>
    <message>
        <source>Fit the network to the data (as the run did)</source>
        <translation>使网络适配数据（与训练运行一致）</translation>
    </message>
</context>
<context>
    <name>DataPreviewDialog</name>
    <message>
        <source>Data preview</source>
        <translation>数据预览</translation>
    </message>
    <message>
        <source>Classes</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Train</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>占比</translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>Fix the data, then press Reload. The project&apos;s settings are unchanged.</source>
        <translation>修正数据后按“重新加载”。项目的设置没有改变。</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>重新加载</translation>
    </message>
    <message>
        <source>Read the data again (after fixing the file)</source>
        <translation>重新读取数据（在修正文件之后）</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>正在加载 %1…</translation>
    </message>
    <message>
        <source>The preview stopped without a result.</source>
        <translation>预览未产生结果就停止了。</translation>
    </message>
    <message>
        <source>Cannot read the data of %1</source>
        <translation>无法读取 %1 的数据</translation>
    </message>
    <message>
        <source>windows</source>
        <translation>窗口</translation>
    </message>
    <message>
        <source>samples</source>
        <translation>样本</translation>
    </message>
    <message>
        <source>%1 training / %2 validation %3</source>
        <translation>训练 %1 / 验证 %2（%3）</translation>
    </message>
    <message>
        <source>classification, %1 classes</source>
        <translation>分类，%1 个类别</translation>
    </message>
    <message>
        <source>regression</source>
        <translation>回归</translation>
    </message>
    <message>
        <source>target from %1 to %2</source>
        <translation>目标值从 %1 到 %2</translation>
    </message>
    <message>
        <source>language model, %1 distinct characters</source>
        <translation>语言模型，%1 个不同字符</translation>
    </message>
    <message>
        <source>input %1</source>
        <translation>输入 %1</translation>
    </message>
    <message>
        <source>No problems found</source>
        <translation>未发现问题</translation>
    </message>
    <message>
        <source>First rows of the file</source>
        <translation>文件的前几行</translation>
    </message>
    <message>
        <source>First training rows</source>
        <translation>训练集的前几行</translation>
    </message>
    <message>
        <source>Training images by class</source>
        <translation>按类别显示的训练图像</translation>
    </message>
    <message>
        <source>Training images of the first %1 of %2 classes</source>
        <translation>前 %1 个类别（共 %2 个）的训练图像</translation>
    </message>
    <message>
        <source>Beginning of the text (%1 characters)</source>
        <translation>文本开头（%1 个字符）</translation>
    </message>
    <message>
        <source>Sample</source>
        <translation>样本</translation>
    </message>
    <message>
        <source>No sample view for inputs of shape %1.</source>
        <translation>形状为 %1 的输入没有样本视图。</translation>
    </message>
    <message>
        <source>target</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>constant</source>
        <translation>常量</translation>
    </message>
    <message>
        <source>The same value in every row: it carries no information</source>
        <translation>每一行的值都相同：不含任何信息</translation>
    </message>
    <message>
        <source>Line in the file</source>
        <translation>文件中的行号</translation>
    </message>
    <message>
        <source>As training draws them: four draws of each image through the augmentations of the Data settings</source>
        <translation>训练时的样子：每张图像经数据设置中的增强随机抽取四次</translation>
    </message>
    <message>
        <source>class %1 · %2×%3 pixels</source>
        <translation>类别 %1 · %2×%3 像素</translation>
    </message>
</context>
<context>
    <name>EditActions</name>
    <message>
        <source>Cut %1 layers</source>
        <translation>剪切 %1 个层</translation>
    </message>
    <message>
        <source>The clipboard holds no layers to paste.</source>
        <translation>剪贴板中没有可粘贴的层。</translation>
    </message>
    <message>
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <source>Duplicate</source>
        <translation>创建副本</translation>
    </message>
    <message>
        <source>Cannot paste: %1</source>
        <translation>无法粘贴：%1</translation>
    </message>
    <message>
        <source>Save as block</source>
        <translation>保存为模块</translation>
    </message>
    <message>
        <source>Block name (shown in the Layers panel):</source>
        <translation>模块名称（显示在“层”面板中）：</translation>
    </message>
    <message>
        <source>Saved block “%1”</source>
        <translation>已保存模块“%1”</translation>
    </message>
    <message>
        <source>Insert block %1</source>
        <translation>插入模块 %1</translation>
    </message>
    <message>
        <source>Replace head</source>
        <translation>替换输出头</translation>
    </message>
    <message>
        <source>Outputs of the new last Linear (the number of classes in your data):</source>
        <translation>新的最后一个 Linear 的输出数（你的数据中的类别数）：</translation>
    </message>
    <message>
        <source>Auto-layout</source>
        <translation>自动布局</translation>
    </message>
</context>
<context>
    <name>EstimateView</name>
    <message>
        <source>Estimate cost</source>
        <translation>估算成本</translation>
    </message>
    <message>
        <source>Time a few training steps on the chosen device, then estimate the run&apos;s compute, time, energy and CO₂</source>
        <translation>在所选设备上计时几个训练步骤，然后估算运行的计算量、时间、能耗和 CO₂</translation>
    </message>
    <message>
        <source>Timing a few training steps…</source>
        <translation>正在计时几个训练步骤…</translation>
    </message>
    <message>
        <source>No estimate: %1</source>
        <translation>无法估算：%1</translation>
    </message>
    <message>
        <source>time %1 s</source>
        <translation>时间 %1 秒</translation>
    </message>
    <message>
        <source>(estimated %1 s)</source>
        <translation>（估计 %1 秒）</translation>
    </message>
    <message>
        <source>%1 kWh measured</source>
        <translation>实测 %1 kWh</translation>
    </message>
</context>
<context>
    <name>ExportDialog</name>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Trained run</source>
        <translation>已训练的运行</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <source>ONNX (.onnx), checked with onnxruntime</source>
        <translation>ONNX（.onnx），经 onnxruntime 校验</translation>
    </message>
    <message>
        <source>PyTorch weights (.safetensors)</source>
        <translation>PyTorch 权重（.safetensors）</translation>
    </message>
    <message>
        <source>PyTorch program (.pt2, torch.export)</source>
        <translation>PyTorch 程序（.pt2，torch.export）</translation>
    </message>
    <message>
        <source>Python code (.py) that rebuilds the network</source>
        <translation>重建网络的 Python 代码（.py）</translation>
    </message>
    <message>
        <source>Compression</source>
        <translation>压缩</translation>
    </message>
    <message>
        <source>int8, dynamic</source>
        <translation>int8，动态</translation>
    </message>
    <message>
        <source>int8, static (calibrated)</source>
        <translation>int8，静态（校准）</translation>
    </message>
    <message>
        <source>fp16</source>
        <translation>fp16</translation>
    </message>
    <message>
        <source>int8 weights; activations are quantized at run time. About a quarter of the size.</source>
        <translation>int8 权重；激活在运行时量化。大小约为原来的四分之一。</translation>
    </message>
    <message>
        <source>int8 weights and activations, calibrated on training batches.</source>
        <translation>int8 权重和激活，用训练批次校准。</translation>
    </message>
    <message>
        <source>Half-precision weights and compute: half the size.</source>
        <translation>半精度权重和计算：大小减半。</translation>
    </message>
    <message>
        <source>Global magnitude pruning: this share of the Linear/Conv weights is set to zero.</source>
        <translation>全局幅值剪枝：将此比例的 Linear/Conv 权重置零。</translation>
    </message>
    <message>
        <source>Channel pruning: this share of each layer&apos;s channels is removed; the file gets smaller.</source>
        <translation>通道剪枝：移除每层此比例的通道；文件随之变小。</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source> epochs</source>
        <translation> 轮</translation>
    </message>
    <message>
        <source>Training after pruning, to win back accuracy.</source>
        <translation>剪枝后继续训练，以恢复准确率。</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Magnitude pruning</source>
        <translation>幅值剪枝</translation>
    </message>
    <message>
        <source>Channel pruning</source>
        <translation>通道剪枝</translation>
    </message>
    <message>
        <source>Fine-tune after pruning</source>
        <translation>剪枝后微调</translation>
    </message>
    <message>
        <source>Distillation: a smaller network that learns from this run</source>
        <translation>蒸馏：一个向本次运行学习的更小网络</translation>
    </message>
    <message>
        <source>The student is this network with every layer&apos;s width scaled by this factor (the output stays).</source>
        <translation>学生网络即本网络，每层宽度按此系数缩放（输出层不变）。</translation>
    </message>
    <message>
        <source>Compare with the student trained on labels alone</source>
        <translation>与仅用标签训练的学生网络比较</translation>
    </message>
    <message>
        <source>Train the student</source>
        <translation>训练学生网络</translation>
    </message>
    <message>
        <source>Runs in the training panel, with live curves; the student&apos;s run then appears in the list above, ready to export.</source>
        <translation>在训练面板中运行并实时绘制曲线；完成后学生网络的运行会出现在上方列表中，可直接导出。</translation>
    </message>
    <message>
        <source>Width</source>
        <translation>宽度</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Folder for the files and report.md</source>
        <translation>存放文件和 report.md 的文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <source>★ recommended: the smallest file within one point of the original&apos;s accuracy (or 2% of its validation loss). ◆ best trade-off: no other variant is at least as small, as fast and as accurate while better in one of them.</source>
        <translation>★ 推荐：准确率与原模型相差不超过 1 个百分点（或验证损失相差不超过 2%）的最小文件。◆ 最佳权衡：没有其他变体在大小、速度和准确率上都不差且至少一项更好。</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>打开输出文件夹</translation>
    </message>
    <message>
        <source>Cancel export</source>
        <translation>取消导出</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>No runs in %1</source>
        <translation>%1 中没有运行</translation>
    </message>
    <message>
        <source>1 epoch</source>
        <translation>1 轮</translation>
    </message>
    <message>
        <source>%1 epochs</source>
        <translation>%1 轮</translation>
    </message>
    <message>
        <source>val acc %1</source>
        <translation>验证准确率 %1</translation>
    </message>
    <message>
        <source>val loss %1</source>
        <translation>验证损失 %1</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>stopped early</source>
        <translation>提前停止</translation>
    </message>
    <message>
        <source>Choose a run folder</source>
        <translation>选择运行文件夹</translation>
    </message>
    <message>
        <source>Choose the output folder</source>
        <translation>选择输出文件夹</translation>
    </message>
    <message>
        <source>Quantization works on the ONNX file.</source>
        <translation>量化作用于 ONNX 文件。</translation>
    </message>
    <message>
        <source>The generated code loads its weights from the safetensors file.</source>
        <translation>生成的代码从 safetensors 文件加载权重。</translation>
    </message>
    <message>
        <source>Choose a trained run: train the project first (Run &gt; Train), or choose a run folder.</source>
        <translation>请选择一个已训练的运行：先训练项目（运行 &gt; 训练），或选择一个运行文件夹。</translation>
    </message>
    <message>
        <source>Choose at least one format.</source>
        <translation>请至少选择一种格式。</translation>
    </message>
    <message>
        <source>Choose an output folder.</source>
        <translation>请选择输出文件夹。</translation>
    </message>
    <message>
        <source>%1 is a file — choose a folder for the export.</source>
        <translation>%1 是一个文件——请为导出选择一个文件夹。</translation>
    </message>
    <message>
        <source>The output folder is not empty: files with the same names are replaced.</source>
        <translation>输出文件夹不为空：同名文件将被替换。</translation>
    </message>
    <message>
        <source>The training panel did not start the distillation; its status line says why.</source>
        <translation>训练面板未能开始蒸馏，原因见其状态栏。</translation>
    </message>
    <message>
        <source>Loading the run…</source>
        <translation>正在加载运行…</translation>
    </message>
    <message>
        <source>The export stopped without a result.</source>
        <translation>导出已结束，但没有结果。</translation>
    </message>
    <message>
        <source>Cancelling… (at the end of the current step)</source>
        <translation>正在取消…（当前步骤结束时）</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Exported %1 variant(s) to %2 (report.md has the details).</source>
        <translation>已将 %1 个变体导出到 %2（详见 report.md）。</translation>
    </message>
    <message>
        <source>Files: %1</source>
        <translation>文件：%1</translation>
    </message>
    <message>
        <source>variant</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>params</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>non-zero</source>
        <translation>非零</translation>
    </message>
    <message>
        <source>val acc</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>val loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>ORT ms b1</source>
        <translation>ORT 毫秒 b1</translation>
    </message>
    <message>
        <source>ORT ms b64</source>
        <translation>ORT 毫秒 b64</translation>
    </message>
    <message>
        <source>PyTorch ms b1 / b64</source>
        <translation>PyTorch 毫秒 b1 / b64</translation>
    </message>
    <message>
        <source>max abs diff</source>
        <translation>最大绝对差</translation>
    </message>
    <message>
        <source>Size of the deployable file (ONNX if written)</source>
        <translation>可部署文件的大小（若已导出则为 ONNX）</translation>
    </message>
    <message>
        <source>Parameters that are not zero (magnitude pruning zeroes weights)</source>
        <translation>非零参数（幅值剪枝会将权重置零）</translation>
    </message>
    <message>
        <source>onnxruntime latency on this CPU, batch of 1 (median, milliseconds)</source>
        <translation>本机 CPU 上的 onnxruntime 延迟，批大小 1（中位数，毫秒）</translation>
    </message>
    <message>
        <source>onnxruntime latency on this CPU, batch of 64 (median, milliseconds)</source>
        <translation>本机 CPU 上的 onnxruntime 延迟，批大小 64（中位数，毫秒）</translation>
    </message>
    <message>
        <source>PyTorch latency of the original model, batch 1 / 64 (milliseconds)</source>
        <translation>原模型的 PyTorch 延迟，批大小 1 / 64（毫秒）</translation>
    </message>
    <message>
        <source>Largest difference from the original PyTorch model&apos;s outputs</source>
        <translation>与原 PyTorch 模型输出的最大差值</translation>
    </message>
    <message>
        <source>Cannot open %1 here — open it in your file manager.</source>
        <translation>无法在此打开 %1——请在文件管理器中打开。</translation>
    </message>
</context>
<context>
    <name>FileActions</name>
    <message>
        <source>Cannot apply the training settings</source>
        <translation>无法应用训练设置</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>未保存的更改</translation>
    </message>
    <message>
        <source>Save the changes to “%1” before closing it?</source>
        <translation>关闭前是否保存对“%1”的更改？</translation>
    </message>
    <message>
        <source>Open project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <source>Workbench projects (*.json);;ONNX models (*.onnx);;All files (*)</source>
        <translation>Workbench 项目 (*.json);;ONNX 模型 (*.onnx);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Cannot open the project</source>
        <translation>无法打开项目</translation>
    </message>
    <message>
        <source>Cannot open the preset</source>
        <translation>无法打开预设</translation>
    </message>
    <message>
        <source>Save project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <source>Workbench projects (*.json)</source>
        <translation>Workbench 项目 (*.json)</translation>
    </message>
    <message>
        <source>Cannot save the project</source>
        <translation>无法保存项目</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Clear Recent</source>
        <translation>清除最近记录</translation>
    </message>
    <message>
        <source>No recent projects</source>
        <translation>没有最近的项目</translation>
    </message>
    <message>
        <source>Restore unsaved work?</source>
        <translation>恢复未保存的工作？</translation>
    </message>
    <message>
        <source>Workbench did not close normally. Restore the unsaved changes to “%1” (autosaved %2)?</source>
        <translation>Workbench 上次未正常关闭。是否恢复对“%1”的未保存更改（自动保存于 %2）？</translation>
    </message>
</context>
<context>
    <name>ImageOptionsEditor</name>
    <message>
        <source>&apos;%1&apos; takes numbers separated by commas, like %2</source>
        <translation>“%1”需要用逗号分隔的数字，例如 %2</translation>
    </message>
    <message>
        <source>not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <source>Resize first</source>
        <translation>先缩放到</translation>
    </message>
    <message>
        <source>Bring every image to this height × width as it is read, before the transforms</source>
        <translation>读取时先把每张图像缩放到这个高 × 宽，再做变换</translation>
    </message>
    <message>
        <source>Height × width in pixels</source>
        <translation>高 × 宽（像素）</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>通道</translation>
    </message>
    <message>
        <source>Read the images as gray or RGB</source>
        <translation>以灰度或 RGB 读取图像</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Gray when every image is, else RGB</source>
        <translation>所有图像都是灰度时用灰度，否则用 RGB</translation>
    </message>
    <message>
        <source>Gray (1)</source>
        <translation>灰度 (1)</translation>
    </message>
    <message>
        <source>RGB (3)</source>
        <translation>RGB (3)</translation>
    </message>
    <message>
        <source>Unreadable images</source>
        <translation>无法读取的图像</translation>
    </message>
    <message>
        <source>What a file that cannot be decoded does</source>
        <translation>无法解码的文件如何处理</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the load and name the file</source>
        <translation>停止加载并指出该文件</translation>
    </message>
    <message>
        <source>Skip</source>
        <translation>跳过</translation>
    </message>
    <message>
        <source>Leave them out and count them in the log</source>
        <translation>略过它们，并在日志中计数</translation>
    </message>
    <message>
        <source>Transforms</source>
        <translation>变换</translation>
    </message>
    <message>
        <source>Applied in this order; augmentations only while training</source>
        <translation>按此顺序应用；数据增强只在训练时应用</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Add a transform after the selected one</source>
        <translation>在选中的变换之后添加一个变换</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Remove the selected transform</source>
        <translation>删除选中的变换</translation>
    </message>
    <message>
        <source>Move the selected transform up (earlier)</source>
        <translation>将选中的变换上移（更早应用）</translation>
    </message>
    <message>
        <source>Move the selected transform down (later)</source>
        <translation>将选中的变换下移（更晚应用）</translation>
    </message>
    <message>
        <source>Training only: validation, evaluation and export leave it out</source>
        <translation>仅用于训练：验证、评估和导出时不应用</translation>
    </message>
    <message>
        <source>%1 (training only)</source>
        <translation>%1（仅训练）</translation>
    </message>
    <message>
        <source>The transforms cannot be shown: %1</source>
        <translation>无法显示这些变换：%1</translation>
    </message>
    <message>
        <source>training only</source>
        <translation>仅训练</translation>
    </message>
    <message>
        <source>Add transform %1</source>
        <translation>添加变换 %1</translation>
    </message>
    <message>
        <source>Remove transform %1</source>
        <translation>删除变换 %1</translation>
    </message>
    <message>
        <source>Move transform %1 up</source>
        <translation>上移变换 %1</translation>
    </message>
    <message>
        <source>Move transform %1 down</source>
        <translation>下移变换 %1</translation>
    </message>
    <message>
        <source>Change %1 of %2</source>
        <translation>修改 %2 的 %1</translation>
    </message>
    <message>
        <source>Change image size</source>
        <translation>修改图像尺寸</translation>
    </message>
    <message>
        <source>Change image channels</source>
        <translation>修改图像通道</translation>
    </message>
    <message>
        <source>Change unreadable images</source>
        <translation>修改无法读取图像的处理方式</translation>
    </message>
    <message>
        <source>Not changed: %1</source>
        <translation>未修改：%1</translation>
    </message>
</context>
<context>
    <name>ImageTransforms</name>
    <message>
        <source>output height and width in pixels</source>
        <translation>输出的高和宽（像素）</translation>
    </message>
    <message>
        <source>Resize every image to a fixed height and width</source>
        <translation>把每张图像缩放到固定的高和宽</translation>
    </message>
    <message>
        <source>Scale every image so that its shorter side has the given length, keeping its aspect ratio (as torchvision&apos;s pretrained weights expect)</source>
        <translation>缩放每张图像，使其短边等于给定长度，并保持宽高比（torchvision 预训练权重所要求的做法）</translation>
    </message>
    <message>
        <source>length of the shorter side in pixels</source>
        <translation>短边长度（像素）</translation>
    </message>
    <message>
        <source>how new pixels are computed (the weights&apos; own choice)</source>
        <translation>新像素的计算方式（与权重自身的设置一致）</translation>
    </message>
    <message>
        <source>Cut the central region of the given size</source>
        <translation>裁出给定尺寸的中心区域</translation>
    </message>
    <message>
        <source>Crop a random region (a share `scale` of the area) and resize it; validation resizes the whole image instead</source>
        <translation>随机裁出一块区域（占面积的比例为 `scale`）并缩放；验证时改为缩放整张图像</translation>
    </message>
    <message>
        <source>smallest and largest share of the area</source>
        <translation>面积比例的最小值和最大值</translation>
    </message>
    <message>
        <source>Mirror left to right with probability p</source>
        <translation>以概率 p 左右翻转</translation>
    </message>
    <message>
        <source>probability</source>
        <translation>概率</translation>
    </message>
    <message>
        <source>Mirror top to bottom with probability p</source>
        <translation>以概率 p 上下翻转</translation>
    </message>
    <message>
        <source>Rotate by a random angle in [-degrees, degrees]</source>
        <translation>按 [-degrees, degrees] 内的随机角度旋转</translation>
    </message>
    <message>
        <source>largest angle</source>
        <translation>最大角度</translation>
    </message>
    <message>
        <source>Shift by up to a fraction of the width and height (the border is filled with 0)</source>
        <translation>随机平移，最多为宽和高的一定比例（边缘以 0 填充）</translation>
    </message>
    <message>
        <source>largest shift as a share of the size</source>
        <translation>最大平移量占尺寸的比例</translation>
    </message>
    <message>
        <source>Vary brightness, contrast, saturation and hue at random</source>
        <translation>随机改变亮度、对比度、饱和度和色调</translation>
    </message>
    <message>
        <source>largest relative change</source>
        <translation>最大相对变化</translation>
    </message>
    <message>
        <source>largest hue shift</source>
        <translation>最大色调偏移</translation>
    </message>
    <message>
        <source>Standardise each channel: (x - mean) / std; without values, measured on the training split</source>
        <translation>逐通道标准化：(x - mean) / std；不填数值时在训练集上测量</translation>
    </message>
    <message>
        <source>per-channel mean of pixels in [0, 1]</source>
        <translation>每个通道的像素均值（像素在 [0, 1] 内）</translation>
    </message>
    <message>
        <source>per-channel standard deviation</source>
        <translation>每个通道的标准差</translation>
    </message>
</context>
<context>
    <name>Inspector</name>
    <message>
        <source>%1 layers selected</source>
        <translation>已选择 %1 个层</translation>
    </message>
    <message>
        <source>Select a layer on the canvas to edit its parameters.</source>
        <translation>在画布上选择一个层以编辑其参数。</translation>
    </message>
    <message>
        <source>Search values (for Run › Search…)</source>
        <translation>搜索取值（用于 运行 › 搜索…）</translation>
    </message>
    <message>
        <source>This layer has no parameters.</source>
        <translation>此层没有参数。</translation>
    </message>
    <message>
        <source>Output shape: %1</source>
        <translation>输出形状：%1</translation>
    </message>
    <message>
        <source>not searched (e.g. 32, 64, 128 or 16..256 log)</source>
        <translation>不搜索（例如 32, 64, 128 或 16..256 log）</translation>
    </message>
    <message>
        <source>Values a search may try: a list (32, 64, 128) or a range (16..256, 16..256 log); empty: not searched</source>
        <translation>搜索可尝试的取值：列表（32, 64, 128）或范围（16..256、16..256 log）；留空：不搜索</translation>
    </message>
    <message>
        <source>  search</source>
        <translation>  搜索</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>layer name</source>
        <translation>层名称</translation>
    </message>
    <message>
        <source>Trainable</source>
        <translation>可训练</translation>
    </message>
    <message>
        <source>Unchecked: the layer is frozen, its weights stay fixed in training</source>
        <translation>未勾选：该层被冻结，训练中其权重保持不变</translation>
    </message>
    <message>
        <source>Learning-rate factor</source>
        <translation>学习率系数</translation>
    </message>
    <message>
        <source>Multiplies the run&apos;s learning rate for this layer</source>
        <translation>此层使用的学习率 = 运行的学习率 × 此系数</translation>
    </message>
</context>
<context>
    <name>LivePlot</name>
    <message>
        <source>X axis</source>
        <translation>横轴</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>轮</translation>
    </message>
    <message>
        <source>time (s)</source>
        <translation>时间（秒）</translation>
    </message>
    <message>
        <source>Smoothing</source>
        <translation>平滑</translation>
    </message>
    <message>
        <source>Weight of the moving average drawn over the raw loss (0 = none)</source>
        <translation>叠加在原始损失上的移动平均权重（0 = 不平滑）</translation>
    </message>
    <message>
        <source>Save PNG…</source>
        <translation>保存 PNG…</translation>
    </message>
    <message>
        <source>Save the plots as a PNG picture</source>
        <translation>将图表保存为 PNG 图片</translation>
    </message>
    <message>
        <source>Save CSV…</source>
        <translation>保存 CSV…</translation>
    </message>
    <message>
        <source>Save the live (or first shown) run&apos;s metrics as a CSV table</source>
        <translation>将正在训练（或第一个显示）的运行的指标保存为 CSV 表格</translation>
    </message>
    <message>
        <source>Validation accuracy</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>Validation token accuracy</source>
        <translation>验证词元准确率</translation>
    </message>
    <message>
        <source>Validation mean absolute error</source>
        <translation>验证平均绝对误差</translation>
    </message>
    <message>
        <source>Validation perplexity</source>
        <translation>验证困惑度</translation>
    </message>
    <message>
        <source>Validation metric</source>
        <translation>验证指标</translation>
    </message>
    <message>
        <source>Loss — line: training (smoothed), dots: validation</source>
        <translation>损失 — 线：训练（平滑），点：验证</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>training time (s)</source>
        <translation>训练时间（秒）</translation>
    </message>
    <message>
        <source>Save the plots</source>
        <translation>保存图表</translation>
    </message>
    <message>
        <source>PNG pictures (*.png)</source>
        <translation>PNG 图片 (*.png)</translation>
    </message>
    <message>
        <source>Cannot save the plots</source>
        <translation>无法保存图表</translation>
    </message>
    <message>
        <source>Save CSV</source>
        <translation>保存 CSV</translation>
    </message>
    <message>
        <source>There is no run to save yet: train one or pick one in the runs list.</source>
        <translation>还没有可保存的运行：请先训练，或在运行列表中选择一个。</translation>
    </message>
    <message>
        <source>Save the metrics</source>
        <translation>保存指标</translation>
    </message>
    <message>
        <source>CSV tables (*.csv)</source>
        <translation>CSV 表格 (*.csv)</translation>
    </message>
    <message>
        <source>Cannot save the metrics</source>
        <translation>无法保存指标</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>检查器</translation>
    </message>
    <message>
        <source>Problems</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Model summary</source>
        <translation>模型摘要</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>代码</translation>
    </message>
    <message>
        <source>Ser&amp;ve…</source>
        <translation>部署服务(&amp;V)…</translation>
    </message>
    <message>
        <source>&amp;New</source>
        <translation>新建(&amp;N)</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>打开(&amp;O)…</translation>
    </message>
    <message>
        <source>New from &amp;Pretrained Model…</source>
        <translation>从预训练模型新建(&amp;P)…</translation>
    </message>
    <message>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>另存为(&amp;A)…</translation>
    </message>
    <message>
        <source>&amp;Export…</source>
        <translation>导出(&amp;E)…</translation>
    </message>
    <message>
        <source>&amp;Close Project</source>
        <translation>关闭项目(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>撤销(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>重做(&amp;R)</translation>
    </message>
    <message>
        <source>Cu&amp;t</source>
        <translation>剪切(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Copy</source>
        <translation>复制(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Paste</source>
        <translation>粘贴(&amp;P)</translation>
    </message>
    <message>
        <source>D&amp;uplicate</source>
        <translation>创建副本(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>删除(&amp;D)</translation>
    </message>
    <message>
        <source>Select &amp;All</source>
        <translation>全选(&amp;A)</translation>
    </message>
    <message>
        <source>Save Selection as &amp;Block…</source>
        <translation>将所选保存为模块(&amp;B)…</translation>
    </message>
    <message>
        <source>&amp;Freeze Selected Layers</source>
        <translation>冻结所选层(&amp;F)</translation>
    </message>
    <message>
        <source>U&amp;nfreeze Selected Layers</source>
        <translation>解冻所选层(&amp;N)</translation>
    </message>
    <message>
        <source>Replace &amp;Head…</source>
        <translation>替换输出头(&amp;H)…</translation>
    </message>
    <message>
        <source>Pre&amp;ferences…</source>
        <translation>首选项(&amp;F)…</translation>
    </message>
    <message>
        <source>Zoom &amp;In</source>
        <translation>放大(&amp;I)</translation>
    </message>
    <message>
        <source>Zoom &amp;Out</source>
        <translation>缩小(&amp;O)</translation>
    </message>
    <message>
        <source>&amp;Actual Size</source>
        <translation>实际大小(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Fit to Window</source>
        <translation>适应窗口(&amp;F)</translation>
    </message>
    <message>
        <source>Auto-&amp;layout</source>
        <translation>自动布局(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Snap to Grid</source>
        <translation>对齐网格(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Train</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Stop</source>
        <translation>停止(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Search…</source>
        <translation>搜索(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;About Workbench</source>
        <translation>关于 Workbench(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;Preset</source>
        <translation>打开预设(&amp;P)</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Panels</source>
        <translation>面板(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>Train the network (F5)</source>
        <translation>训练网络 (F5)</translation>
    </message>
    <message>
        <source>Arrange layers left to right by depth (Ctrl+L)</source>
        <translation>按深度从左到右排列各层 (Ctrl+L)</translation>
    </message>
    <message>
        <source>Drag layers here from the Layers panel,
then drag from an output port to an input port to connect them.</source>
        <translation>从“层”面板把层拖到这里，
再从输出端口拖到输入端口来连接它们。</translation>
    </message>
    <message>
        <source>&amp;Undo %1</source>
        <translation>撤销 %1(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Redo %1</source>
        <translation>重做 %1(&amp;R)</translation>
    </message>
    <message>
        <source>%1 layers</source>
        <translation>%1 个层</translation>
    </message>
    <message>
        <source>1 layer</source>
        <translation>1 个层</translation>
    </message>
    <message>
        <source>%1 errors</source>
        <translation>%1 个错误</translation>
    </message>
    <message>
        <source>1 error</source>
        <translation>1 个错误</translation>
    </message>
    <message>
        <source>%1 warnings</source>
        <translation>%1 个警告</translation>
    </message>
    <message>
        <source>1 warning</source>
        <translation>1 个警告</translation>
    </message>
    <message>
        <source>ready to train</source>
        <translation>可以训练</translation>
    </message>
    <message>
        <source>Fix the problems before training.</source>
        <translation>请先修复问题再训练。</translation>
    </message>
    <message>
        <source>Training is not available in this build yet.</source>
        <translation>此版本尚不支持训练。</translation>
    </message>
    <message>
        <source>Export is not available in this build yet.</source>
        <translation>此版本尚不支持导出。</translation>
    </message>
    <message>
        <source>About Workbench</source>
        <translation>关于 Workbench</translation>
    </message>
    <message>
        <source>&lt;b&gt;Workbench&lt;/b&gt;&lt;br&gt;Design neural networks by drawing them, train them live, export them verified.</source>
        <translation>&lt;b&gt;Workbench&lt;/b&gt;&lt;br&gt;通过绘图设计神经网络，实时训练，导出并验证。</translation>
    </message>
    <message>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <source>Curves</source>
        <translation>曲线</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>Pause or resume the run (F6)</source>
        <translation>暂停或继续运行 (F6)</translation>
    </message>
    <message>
        <source>Stop the run after the current step; it keeps what it has (Shift+F5)</source>
        <translation>在当前步之后停止运行；已有结果会保留 (Shift+F5)</translation>
    </message>
    <message>
        <source>Training — the network is read-only until the run ends (Stop: Shift+F5)</source>
        <translation>训练中 — 运行结束前网络为只读（停止：Shift+F5）</translation>
    </message>
</context>
<context>
    <name>Palette</name>
    <message>
        <source>Search layers…</source>
        <translation>搜索层…</translation>
    </message>
</context>
<context>
    <name>PreferencesDialog</name>
    <message>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>系统语言</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Snap cards to the grid</source>
        <translation>卡片对齐网格</translation>
    </message>
    <message>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <source>Save As starts here, and the runs of a project that has no file yet go to its runs/ folder</source>
        <translation>“另存为”从这里开始；尚未保存的项目，其运行结果保存在此处的 runs/ 文件夹</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Autosave every</source>
        <translation>自动保存间隔</translation>
    </message>
    <message>
        <source>Projects folder</source>
        <translation>项目文件夹</translation>
    </message>
</context>
<context>
    <name>PresetCard</name>
    <message>
        <source>%1 · %2 data · %3 params</source>
        <translation>%1 · %2 数据 · %3 个参数</translation>
    </message>
    <message>
        <source>Open the preset “%1”</source>
        <translation>打开预设“%1”</translation>
    </message>
</context>
<context>
    <name>PretrainedDialog</name>
    <message>
        <source>New from Pretrained Model</source>
        <translation>从预训练模型新建</translation>
    </message>
    <message>
        <source>Published ImageNet weights</source>
        <translation>已发布的 ImageNet 权重</translation>
    </message>
    <message>
        <source>Weights file…</source>
        <translation>权重文件…</translation>
    </message>
    <message>
        <source>None (train from scratch)</source>
        <translation>无（从头训练）</translation>
    </message>
    <message>
        <source>.safetensors or a saved state dict of that model</source>
        <translation>该模型的 .safetensors 或保存的 state dict</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>keep the 1,000 ImageNet classes</source>
        <translation>保留 1,000 个 ImageNet 类别</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>Weights file</source>
        <translation>权重文件</translation>
    </message>
    <message>
        <source>Classes</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Project file</source>
        <translation>项目文件</translation>
    </message>
    <message>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <source>The weights are not in the cache: importing downloads %1 MB. Offline? Choose a weights file instead.</source>
        <translation>权重不在缓存中：导入将下载 %1 MB。离线？请改选权重文件。</translation>
    </message>
    <message>
        <source>Weights File</source>
        <translation>权重文件</translation>
    </message>
    <message>
        <source>Weights (*.safetensors *.pth *.pt);;All files (*)</source>
        <translation>权重 (*.safetensors *.pth *.pt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Project File</source>
        <translation>项目文件</translation>
    </message>
    <message>
        <source>Projects (*.json)</source>
        <translation>项目 (*.json)</translation>
    </message>
    <message>
        <source>Choose a weights file, or another weights option.</source>
        <translation>请选择权重文件，或其他权重选项。</translation>
    </message>
    <message>
        <source>Importing %1 and checking it against torchvision…</source>
        <translation>正在导入 %1 并与 torchvision 核对…</translation>
    </message>
    <message>
        <source>Wait for the import to finish.</source>
        <translation>请等待导入完成。</translation>
    </message>
</context>
<context>
    <name>ProblemsPanel</name>
    <message>
        <source>No problems: the network is ready to train.</source>
        <translation>没有问题：网络可以训练了。</translation>
    </message>
    <message>
        <source>Problem</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
</context>
<context>
    <name>ProgressView</name>
    <message>
        <source>Epoch %1/%2</source>
        <translation>第 %1/%2 轮</translation>
    </message>
    <message>
        <source>step %1/%2</source>
        <translation>第 %1/%2 步</translation>
    </message>
    <message>
        <source>ETA %1</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>%1 samples/s</source>
        <translation>%1 样本/秒</translation>
    </message>
    <message>
        <source>memory %1 (process)</source>
        <translation>内存 %1（进程）</translation>
    </message>
    <message>
        <source>%2 memory %1</source>
        <translation>%2 显存 %1</translation>
    </message>
</context>
<context>
    <name>ResultsView</name>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Correct</source>
        <translation>正确</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>源序列</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>Prediction</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>Validation samples, mistakes first</source>
        <translation>验证样本（错误的在前）</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示</translation>
    </message>
    <message>
        <source>Text for the model to continue (may be empty)</source>
        <translation>让模型接着写的文本（可留空）</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Lower: safer, more repetitive; higher: more surprising</source>
        <translation>越低越稳妥、越重复；越高越出人意料</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>Characters to generate</source>
        <translation>要生成的字符数</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>true value</source>
        <translation>真实值</translation>
    </message>
    <message>
        <source>predicted value</source>
        <translation>预测值</translation>
    </message>
    <message>
        <source>Train the network, or pick a run in the runs list and press Results, to see what the model gets right and wrong.</source>
        <translation>训练网络，或在运行列表中选择一个运行并点击“结果”，查看模型哪些做对了、哪些做错了。</translation>
    </message>
    <message>
        <source>Run %1</source>
        <translation>运行 %1</translation>
    </message>
    <message>
        <source>%1 validation samples</source>
        <translation>%1 个验证样本</translation>
    </message>
    <message>
        <source>accuracy %1</source>
        <translation>准确率 %1</translation>
    </message>
    <message>
        <source>mean absolute error %1</source>
        <translation>平均绝对误差 %1</translation>
    </message>
    <message>
        <source>token accuracy %1</source>
        <translation>词元准确率 %1</translation>
    </message>
    <message>
        <source>exact match %1 (greedy)</source>
        <translation>完全匹配 %1（贪心解码）</translation>
    </message>
    <message>
        <source>No results for this kind of task.</source>
        <translation>此类任务没有结果可显示。</translation>
    </message>
    <message>
        <source>Predicted against true (the dashed line is perfect)</source>
        <translation>预测值与真实值（虚线表示完全准确）</translation>
    </message>
    <message>
        <source>Generating…</source>
        <translation>正在生成…</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>at the end of the run</source>
        <translation>运行结束时</translation>
    </message>
    <message>
        <source>best (lowest validation loss)</source>
        <translation>最佳（验证损失最低）</translation>
    </message>
    <message>
        <source>Which of the run&apos;s checkpoints to evaluate: last.pt, where the curves end, or best.pt, the one Export takes</source>
        <translation>评估运行的哪个检查点：last.pt（曲线结束处），或 best.pt（导出时使用的那个）</translation>
    </message>
    <message>
        <source>%1, epoch %2</source>
        <translation>%1，第 %2 轮</translation>
    </message>
</context>
<context>
    <name>RunSettings</name>
    <message>
        <source>Change %1</source>
        <translation>修改 %1</translation>
    </message>
</context>
<context>
    <name>RunSettingsForm</name>
    <message>
        <source>Cost and tracking</source>
        <translation>成本与跟踪</translation>
    </message>
    <message>
        <source>Grid carbon intensity (g CO₂/kWh)</source>
        <translation>电网碳强度（g CO₂/kWh）</translation>
    </message>
    <message>
        <source>Emissions of the electricity the run uses, for the CO₂ estimate; 400 is about the world average</source>
        <translation>运行所用电力的排放量，用于估算 CO₂；400 约为世界平均水平</translation>
    </message>
    <message>
        <source>Log to TensorBoard</source>
        <translation>记录到 TensorBoard</translation>
    </message>
    <message>
        <source>Write TensorBoard event files in the run folder (pip install &apos;workbench[tracking]&apos;)</source>
        <translation>在运行文件夹中写入 TensorBoard 事件文件（pip install &apos;workbench[tracking]&apos;）</translation>
    </message>
    <message>
        <source>Log to MLflow</source>
        <translation>记录到 MLflow</translation>
    </message>
    <message>
        <source>Log parameters, metrics and files to an MLflow tracking URI (pip install &apos;workbench[tracking]&apos;)</source>
        <translation>将参数、指标和文件记录到 MLflow 跟踪 URI（pip install &apos;workbench[tracking]&apos;）</translation>
    </message>
    <message>
        <source>MLflow tracking URI</source>
        <translation>MLflow 跟踪 URI</translation>
    </message>
    <message>
        <source>Where MLflow logs: a server (http://...) or a database (sqlite:///...); default: mlflow.db beside the run folders</source>
        <translation>MLflow 的记录位置：服务器（http://...）或数据库（sqlite:///...）；默认：运行文件夹旁的 mlflow.db</translation>
    </message>
    <message>
        <source>Preview data…</source>
        <translation>预览数据…</translation>
    </message>
    <message>
        <source>See the data before training: sizes, classes, a sample, and problems such as class imbalance</source>
        <translation>训练前查看数据：规模、类别、样本，以及类别不平衡等问题</translation>
    </message>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>A built-in dataset, or a reader for your own file or folder</source>
        <translation>内置数据集，或用于读取你自己的文件或文件夹的读取器</translation>
    </message>
    <message>
        <source>File or folder</source>
        <translation>文件或文件夹</translation>
    </message>
    <message>
        <source>Your data (for a reader); relative paths start at the project file&apos;s folder</source>
        <translation>你的数据（用于读取器）；相对路径从项目文件所在的文件夹算起</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>选项</translation>
    </message>
    <message>
        <source>Reader options as JSON, e.g. {&quot;seq_len&quot;: 64} or {&quot;target&quot;: &quot;price&quot;}</source>
        <translation>读取器选项（JSON），例如 {&quot;seq_len&quot;: 64} 或 {&quot;target&quot;: &quot;price&quot;}</translation>
    </message>
    <message>
        <source>Validation share</source>
        <translation>验证集比例</translation>
    </message>
    <message>
        <source>Share of the samples held out to measure the model (not trained on)</source>
        <translation>留出用于评估模型的样本比例（不参与训练）</translation>
    </message>
    <message>
        <source>Split seed</source>
        <translation>划分种子</translation>
    </message>
    <message>
        <source>Decides which samples are held out; change it to reshuffle the split</source>
        <translation>决定留出哪些样本；修改它可重新划分</translation>
    </message>
    <message>
        <source>Set the Input&apos;s shape, the last Linear&apos;s outputs and Embedding sizes from the data for this run (the drawn network is not changed)</source>
        <translation>本次运行根据数据设置 Input 的形状、最后一个 Linear 的输出数和 Embedding 的大小（画好的网络不会被修改）</translation>
    </message>
    <message>
        <source>Fit the network to the data</source>
        <translation>让网络适配数据</translation>
    </message>
    <message>
        <source>Optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <source>adam: a good default · adamw: Adam with decoupled weight decay · sgd: with momentum · rmsprop</source>
        <translation>adam：好的默认选择 · adamw：解耦权重衰减的 Adam · sgd：带动量 · rmsprop</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Size of each update; the arrows double or halve it. Too high: the loss jumps or becomes NaN; too low: it falls slowly</source>
        <translation>每次更新的步幅；箭头可将其加倍或减半。太高：损失跳动或变成 NaN；太低：损失下降缓慢</translation>
    </message>
    <message>
        <source>Momentum</source>
        <translation>动量</translation>
    </message>
    <message>
        <source>sgd and rmsprop only: how much of the previous update is kept</source>
        <translation>仅用于 sgd 和 rmsprop：保留多少上一次的更新</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>L2 penalty on the weights (decoupled for adamw); 0 = none</source>
        <translation>权重的 L2 惩罚（adamw 为解耦形式）；0 = 无</translation>
    </message>
    <message>
        <source>L1 penalty</source>
        <translation>L1 惩罚</translation>
    </message>
    <message>
        <source>Weight of the sum of |w| added to the loss; pushes weights to zero</source>
        <translation>加到损失上的 |w| 之和的权重；把权重推向零</translation>
    </message>
    <message>
        <source>Learning-rate schedule</source>
        <translation>学习率调度</translation>
    </message>
    <message>
        <source>Schedule</source>
        <translation>调度</translation>
    </message>
    <message>
        <source>none: constant · step: multiply by the decay factor every few epochs · cosine: fall smoothly to zero · onecycle: rise, then fall</source>
        <translation>none：恒定 · step：每隔几轮乘以衰减系数 · cosine：平滑降到零 · onecycle：先升后降</translation>
    </message>
    <message>
        <source>Decay every (epochs)</source>
        <translation>衰减间隔（轮）</translation>
    </message>
    <message>
        <source>step schedule: epochs between decays</source>
        <translation>step 调度：两次衰减之间的轮数</translation>
    </message>
    <message>
        <source>Decay factor</source>
        <translation>衰减系数</translation>
    </message>
    <message>
        <source>step schedule: the learning rate is multiplied by this at each decay</source>
        <translation>step 调度：每次衰减时学习率乘以该值</translation>
    </message>
    <message>
        <source>Warmup steps</source>
        <translation>预热步数</translation>
    </message>
    <message>
        <source>Raise the learning rate linearly from 0 over this many steps; helps transformers start</source>
        <translation>在这么多步内把学习率从 0 线性升高；有助于 Transformer 起步</translation>
    </message>
    <message>
        <source>Training loop</source>
        <translation>训练循环</translation>
    </message>
    <message>
        <source>Start from a trained model</source>
        <translation>从已训练的模型开始</translation>
    </message>
    <message>
        <source>Epochs</source>
        <translation>轮数</translation>
    </message>
    <message>
        <source>Passes over the training set (counting those before a resume)</source>
        <translation>遍历训练集的次数（包括继续训练之前的轮数）</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Samples per step; larger is faster per sample but needs more memory</source>
        <translation>每步的样本数；越大每个样本越快，但需要更多内存</translation>
    </message>
    <message>
        <source>Gradient clipping</source>
        <translation>梯度裁剪</translation>
    </message>
    <message>
        <source>Largest allowed gradient norm; calms a loss that jumps. Off = no clipping</source>
        <translation>允许的最大梯度范数；可平息跳动的损失。关 = 不裁剪</translation>
    </message>
    <message>
        <source>Gradient accumulation</source>
        <translation>梯度累积</translation>
    </message>
    <message>
        <source>Batches summed before each update: a larger effective batch in the same memory</source>
        <translation>每次更新前累加的批数：用同样的内存得到更大的等效批</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>auto: bf16 or fp16 mixed precision on a GPU, fp32 on the CPU</source>
        <translation>auto：GPU 上用 bf16 或 fp16 混合精度，CPU 上用 fp32</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Seeds the initial weights and the shuffling: the same seed gives the same run</source>
        <translation>决定初始权重和打乱顺序：相同的种子得到相同的运行</translation>
    </message>
    <message>
        <source>Early stopping</source>
        <translation>提前停止</translation>
    </message>
    <message>
        <source>Stop after this many epochs without a lower validation loss. Off = never</source>
        <translation>验证损失连续这么多轮没有降低就停止。关 = 从不</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>Loader workers</source>
        <translation>加载进程数</translation>
    </message>
    <message>
        <source>Processes preparing batches; 0 loads them in the training thread; auto picks a number from the cores, the device and the data</source>
        <translation>准备批次的进程数；0 表示在训练线程中加载；自动则根据核心数、设备和数据选择</translation>
    </message>
    <message>
        <source>Initialise from</source>
        <translation>初始化自</translation>
    </message>
    <message>
        <source>A run folder, checkpoint (.pt) or weights file (.safetensors): layers with the same name and shape start from its weights</source>
        <translation>运行文件夹、检查点（.pt）或权重文件（.safetensors）：名称和形状相同的层从其权重开始</translation>
    </message>
    <message>
        <source>Unfreeze at epoch</source>
        <translation>在第几轮解冻</translation>
    </message>
    <message>
        <source>From this epoch on the frozen layers train too (with their learning-rate factors). Off = they stay frozen</source>
        <translation>从这一轮起，冻结的层也参与训练（按各自的学习率系数）。关 = 保持冻结</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Where the run trains; free / total memory as of the last refresh</source>
        <translation>运行在哪里训练；可用 / 总内存为上次刷新时的数值</translation>
    </message>
    <message>
        <source>%1 (your %2)</source>
        <translation>%1（你的%2）</translation>
    </message>
    <message>
        <source>folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>file</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>List the devices again with their free memory now</source>
        <translation>重新列出设备及其当前可用内存</translation>
    </message>
    <message>
        <source>Choose the file or folder</source>
        <translation>选择文件或文件夹</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关</translation>
    </message>
    <message>
        <source>%1 must be JSON, like %2: %3</source>
        <translation>%1必须是 JSON，例如 %2：%3</translation>
    </message>
    <message>
        <source>%1 must be a JSON object of names and values, like %2</source>
        <translation>%1必须是由名称和值组成的 JSON 对象，例如 %2</translation>
    </message>
    <message>
        <source>Choose the image folder</source>
        <translation>选择图片文件夹</translation>
    </message>
    <message>
        <source>Choose the data file</source>
        <translation>选择数据文件</translation>
    </message>
    <message>
        <source>%1 — %2 · %3 total</source>
        <translation>%1 — %2 · 共 %3</translation>
    </message>
    <message>
        <source>%1 — %2 · %3 free of %4</source>
        <translation>%1 — %2 · 可用 %3 / 共 %4</translation>
    </message>
    <message>
        <source>Automatic (%1)</source>
        <translation>自动（%1）</translation>
    </message>
    <message>
        <source>The best device here: a CUDA GPU, then Apple&apos;s GPU, then the CPU</source>
        <translation>本机最好的设备：优先 CUDA GPU，其次 Apple GPU，最后 CPU</translation>
    </message>
    <message>
        <source>All %1 GPUs — one process each (distributed)</source>
        <translation>全部 %1 个 GPU — 每个一个进程（分布式）</translation>
    </message>
    <message>
        <source>%1 — not available on this machine</source>
        <translation>%1 — 本机不可用</translation>
    </message>
    <message>
        <source>Estimated training memory: %1 at batch size %2</source>
        <translation>估计训练内存：批大小 %2 时为 %1</translation>
    </message>
    <message>
        <source>%1 free on %2</source>
        <translation>%2 可用 %1</translation>
    </message>
    <message>
        <source>This run likely needs more memory (%1) than %2 has free (%3).</source>
        <translation>这次运行需要的内存（%1）很可能超过 %2 的可用内存（%3）。</translation>
    </message>
    <message>
        <source>A batch size of %1 would fit.</source>
        <translation>批大小为 %1 时可以放下。</translation>
    </message>
    <message>
        <source>Even a batch size of 1 may not fit: make the model smaller.</source>
        <translation>即使批大小为 1 也可能放不下：请把模型改小。</translation>
    </message>
</context>
<context>
    <name>RunsList</name>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Look for new runs in the runs folder (also those made with workbench train)</source>
        <translation>在运行文件夹中查找新的运行（包括用 workbench train 生成的）</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <source>Continue the selected run from its last checkpoint with the project&apos;s current settings (raise Epochs to train longer)</source>
        <translation>用项目当前的设置从最后一个检查点继续所选运行（提高轮数可训练更久）</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Show the selected run&apos;s confusion matrix, samples or predictions</source>
        <translation>显示所选运行的混淆矩阵、样本或预测</translation>
    </message>
    <message>
        <source>Tick a run to overlay its curves on the plots</source>
        <translation>勾选一个运行，把它的曲线叠加到图表上</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>stopped early</source>
        <translation>提前停止</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>training…</source>
        <translation>训练中…</translation>
    </message>
    <message>
        <source>%1 steps, %2 epochs</source>
        <translation>%1 步，%2 轮</translation>
    </message>
</context>
<context>
    <name>SampleGrid</name>
    <message>
        <source>pred %1</source>
        <translation>预测 %1</translation>
    </message>
    <message>
        <source>true %1</source>
        <translation>真实 %1</translation>
    </message>
</context>
<context>
    <name>Search</name>
    <message>
        <source>Apply trial %1</source>
        <translation>应用试验 %1</translation>
    </message>
    <message>
        <source>the project has no layer named &apos;%1&apos; any more</source>
        <translation>项目中已没有名为“%1”的层</translation>
    </message>
    <message>
        <source>Search %1.%2</source>
        <translation>搜索 %1.%2</translation>
    </message>
    <message>
        <source>Stop searching %1.%2</source>
        <translation>停止搜索 %1.%2</translation>
    </message>
</context>
<context>
    <name>SearchWindow</name>
    <message>
        <source>Search — %1</source>
        <translation>搜索 — %1</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Values</source>
        <translation>取值</translation>
    </message>
    <message>
        <source>Checked: searched over the values (a, b, c) or the range (low..high, optionally &apos;log&apos;). Unchecked: the value given, or the project&apos;s own when empty.</source>
        <translation>勾选：在取值（a, b, c）或范围（low..high，可加“log”）中搜索。不勾选：使用给定的值，留空则使用项目自身的值。</translation>
    </message>
    <message>
        <source>Where trials train: &apos;auto&apos; (the project&apos;s device), or several devices separated by commas (cuda:0, cuda:1), each running one trial at a time</source>
        <translation>试验在哪里训练：“auto”（项目的设备），或用逗号分隔的多个设备（cuda:0, cuda:1），每个设备一次运行一个试验</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Trials</source>
        <translation>试验次数</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>存储</translation>
    </message>
    <message>
        <source>Study</source>
        <translation>研究</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Objectives (the first two are plotted)</source>
        <translation>目标（绘制前两个）</translation>
    </message>
    <message>
        <source>Search space</source>
        <translation>搜索空间</translation>
    </message>
    <message>
        <source>Objectives</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>Parallel coordinates</source>
        <translation>平行坐标</translation>
    </message>
    <message>
        <source>Importance</source>
        <translation>重要性</translation>
    </message>
    <message>
        <source>Apply to Project</source>
        <translation>应用到项目</translation>
    </message>
    <message>
        <source>Open Run</source>
        <translation>打开运行</translation>
    </message>
    <message>
        <source>Best trials only</source>
        <translation>仅最佳试验</translation>
    </message>
    <message>
        <source>check at least one row of the search space</source>
        <translation>请至少勾选搜索空间中的一行</translation>
    </message>
    <message>
        <source>Starting %1 trials…</source>
        <translation>正在开始 %1 次试验…</translation>
    </message>
    <message>
        <source>Stopping after the current step…</source>
        <translation>当前步骤结束后停止…</translation>
    </message>
    <message>
        <source>Trial %1 of %2: epoch %3 of %4</source>
        <translation>试验 %1/%2：第 %3/%4 轮</translation>
    </message>
    <message>
        <source>%1 trials: %2 complete, %3 pruned, %4 failed. Open the storage with optuna-dashboard.</source>
        <translation>%1 次试验：%2 次完成，%3 次剪枝，%4 次失败。可用 optuna-dashboard 打开该存储。</translation>
    </message>
    <message>
        <source>Importances appear after %1 complete trials</source>
        <translation>完成 %1 次试验后显示重要性</translation>
    </message>
    <message>
        <source>%1 of %2 trials done</source>
        <translation>已完成 %1/%2 次试验</translation>
    </message>
    <message>
        <source>Trial</source>
        <translation>试验</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Seconds</source>
        <translation>秒</translation>
    </message>
    <message>
        <source>Run folder</source>
        <translation>运行文件夹</translation>
    </message>
    <message>
        <source>Trial %1 applied to the project (Undo takes it back).</source>
        <translation>试验 %1 已应用到项目（可撤销）。</translation>
    </message>
</context>
<context>
    <name>ServePanel</name>
    <message>
        <source>Serve</source>
        <translation>部署服务</translation>
    </message>
    <message>
        <source>Choose folder…</source>
        <translation>选择文件夹…</translation>
    </message>
    <message>
        <source>any free port</source>
        <translation>任一空闲端口</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Open page</source>
        <translation>打开页面</translation>
    </message>
    <message>
        <source>Trained run</source>
        <translation>已训练的运行</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>预测次数</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>延迟</translation>
    </message>
    <message>
        <source>The server&apos;s messages appear here.</source>
        <translation>服务器的消息显示在这里。</translation>
    </message>
    <message>
        <source>Closing this window keeps the server running (Run › Serve… shows it again); closing Workbench stops it.</source>
        <translation>关闭此窗口后服务器继续运行（运行 › 部署服务… 可再次显示）；关闭 Workbench 会停止它。</translation>
    </message>
    <message>
        <source>No runs in %1</source>
        <translation>%1 中没有运行</translation>
    </message>
    <message>
        <source>val acc %1</source>
        <translation>验证准确率 %1</translation>
    </message>
    <message>
        <source>Choose a run folder</source>
        <translation>选择运行文件夹</translation>
    </message>
    <message>
        <source>No run selected: train the project first, or choose a run folder.</source>
        <translation>未选择运行：请先训练项目，或选择一个运行文件夹。</translation>
    </message>
    <message>
        <source>Not serving.</source>
        <translation>未在服务。</translation>
    </message>
    <message>
        <source>Starting %1 (the first time, the run is exported to ONNX and checked)…</source>
        <translation>正在启动 %1（首次会将运行导出为 ONNX 并校验）…</translation>
    </message>
    <message>
        <source>Serving %1.</source>
        <translation>正在服务 %1。</translation>
    </message>
    <message>
        <source>Stopping: answering the requests in flight…</source>
        <translation>正在停止：处理完进行中的请求…</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>1 error</source>
        <translation>1 个错误</translation>
    </message>
    <message>
        <source>%1 errors</source>
        <translation>%1 个错误</translation>
    </message>
    <message>
        <source>%1 answered · %2</source>
        <translation>已应答 %1 · %2</translation>
    </message>
    <message>
        <source>%1 ms mean; %2 ms in the last second</source>
        <translation>平均 %1 毫秒；最近一秒 %2 毫秒</translation>
    </message>
    <message>
        <source>%1 ms mean</source>
        <translation>平均 %1 毫秒</translation>
    </message>
</context>
<context>
    <name>StartPage</name>
    <message>
        <source>No recent projects yet.</source>
        <translation>还没有最近的项目。</translation>
    </message>
    <message>
        <source>Projects folder: %1</source>
        <translation>项目文件夹：%1</translation>
    </message>
    <message>
        <source>New projects are saved here, and the runs of unsaved ones go to its runs/ folder. Change it in Preferences.</source>
        <translation>新项目保存在这里，未保存项目的运行结果保存在其 runs/ 文件夹。可在“首选项”中更改。</translation>
    </message>
    <message>
        <source>Design a neural network by drawing it, train it, export it.</source>
        <translation>画出神经网络，训练它，导出它。</translation>
    </message>
    <message>
        <source>New project</source>
        <translation>新建项目</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>Start from a preset</source>
        <translation>从预设开始</translation>
    </message>
    <message>
        <source>Recent projects</source>
        <translation>最近的项目</translation>
    </message>
    <message>
        <source>Loading presets…</source>
        <translation>正在加载预设…</translation>
    </message>
</context>
<context>
    <name>SummaryPanel</name>
    <message>
        <source>Fix the problems listed in the Problems panel to see the summary.</source>
        <translation>请先修复“问题”面板中列出的问题再查看摘要。</translation>
    </message>
    <message>
        <source>No summary: %1</source>
        <translation>无摘要：%1</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt; parameters · &lt;b&gt;%2&lt;/b&gt; weights (fp32) · &lt;b&gt;%3&lt;/b&gt; FLOPs per sample · training memory ≈ &lt;b&gt;%4&lt;/b&gt; at batch %5</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; 个参数 · 权重 &lt;b&gt;%2&lt;/b&gt; (fp32) · 每样本 &lt;b&gt;%3&lt;/b&gt; FLOPs · 批大小 %5 时训练内存 ≈ &lt;b&gt;%4&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Output shape</source>
        <translation>输出形状</translation>
    </message>
    <message>
        <source>Params</source>
        <translation>参数</translation>
    </message>
    <message>
        <source>FLOPs</source>
        <translation>FLOPs</translation>
    </message>
</context>
<context>
    <name>Task</name>
    <message>
        <source>classification</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>regression</source>
        <translation>回归</translation>
    </message>
    <message>
        <source>language model</source>
        <translation>语言模型</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
</context>
<context>
    <name>TrainingPanel</name>
    <message>
        <source>Choose your image folder: Data › File or folder in the run settings (one sub-folder of images per class). This project names no data yet.</source>
        <translation>请选择图像文件夹：运行设置中的 数据 › 文件或文件夹（每个类别一个子文件夹）。这个项目还没有指定数据。</translation>
    </message>
    <message>
        <source>Choose your data file: Data › File or folder in the run settings. This project names no data yet.</source>
        <translation>请选择数据文件：运行设置中的 数据 › 文件或文件夹。这个项目还没有指定数据。</translation>
    </message>
    <message>
        <source>Training: the network and these settings are read-only until the run ends.</source>
        <translation>训练中：运行结束前，网络和这些设置为只读。</translation>
    </message>
    <message>
        <source>A run is already going: stop it first.</source>
        <translation>已有一个运行在进行：请先停止它。</translation>
    </message>
    <message>
        <source>Cannot train on %1: %2</source>
        <translation>无法在 %1 上训练：%2</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Train anyway?</source>
        <translation>仍要训练吗？</translation>
    </message>
    <message>
        <source>Cannot distil %1: %2</source>
        <translation>无法蒸馏 %1：%2</translation>
    </message>
    <message>
        <source>Results appear here when the run ends.</source>
        <translation>运行结束后，结果会显示在这里。</translation>
    </message>
    <message>
        <source>Preparing the data and the model…</source>
        <translation>正在准备数据和模型…</translation>
    </message>
    <message>
        <source>Stopping after this step…</source>
        <translation>将在这一步之后停止…</translation>
    </message>
    <message>
        <source>Paused after step %1 — Resume continues.</source>
        <translation>已在第 %1 步后暂停 — 点“继续”接着训练。</translation>
    </message>
    <message>
        <source>Training…</source>
        <translation>训练中…</translation>
    </message>
    <message>
        <source>%1 has no checkpoint to resume from.</source>
        <translation>%1 没有可以继续的检查点。</translation>
    </message>
    <message>
        <source>Training on %1…</source>
        <translation>正在 %1 上训练…</translation>
    </message>
    <message>
        <source>To fit the data: %1</source>
        <translation>为适配数据：%1</translation>
    </message>
    <message>
        <source>the training thread ended without a result</source>
        <translation>训练线程结束了，但没有结果</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>运行失败：%1</translation>
    </message>
    <message>
        <source>(its metrics so far are kept in %1)</source>
        <translation>（目前为止的指标保存在 %1）</translation>
    </message>
    <message>
        <source>No results: the run failed.</source>
        <translation>没有结果：运行失败。</translation>
    </message>
    <message>
        <source>Training failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <source>validation accuracy</source>
        <translation>验证准确率</translation>
    </message>
    <message>
        <source>token accuracy</source>
        <translation>词元准确率</translation>
    </message>
    <message>
        <source>validation MAE</source>
        <translation>验证 MAE</translation>
    </message>
    <message>
        <source>validation loss %1</source>
        <translation>验证损失 %1</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>Stopped early</source>
        <translation>已提前停止</translation>
    </message>
    <message>
        <source>%1 steps</source>
        <translation>%1 步</translation>
    </message>
    <message>
        <source>Run folder: %1</source>
        <translation>运行文件夹：%1</translation>
    </message>
    <message>
        <source>Evaluating %1 on its validation set…</source>
        <translation>正在用验证集评估 %1…</translation>
    </message>
    <message>
        <source>No results: %1</source>
        <translation>没有结果：%1</translation>
    </message>
</context>
</TS>
